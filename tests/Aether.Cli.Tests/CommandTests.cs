using System.Text.Json;

namespace Aether.Cli.Tests;

/// <summary><c>aether ns ...</c>, <c>status</c> and argument errors.</summary>
public sealed class CommandTests : SandboxTest
{
    [Fact]
    public async Task Ns_add_list_del_round_trip()
    {
        var name = Box.Name("rt");
        Box.TrackNamespace(name);

        var add = await Cli.RunAsync("ns", "add", name);
        Assert.True(add.Code == 0, add.ToString());
        Assert.Contains(name, await Ip.NetnsNamesAsync());

        var list = await Cli.RunAsync("ns", "list");
        Assert.Contains(name, list.Stdout.Split('\n'));
        var json = await Cli.RunAsync("ns", "list", "-o", "json");
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            Assert.Contains(doc.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == name);
        }

        var again = await Cli.RunAsync("ns", "add", name);
        Assert.True(again.Code == 1, again.ToString());

        var del = await Cli.RunAsync("ns", "del", name);
        Assert.True(del.Code == 0, del.ToString());
        Assert.DoesNotContain(name, await Ip.NetnsNamesAsync());

        var missing = await Cli.RunAsync("ns", "del", name);
        Assert.True(missing.Code == 1, missing.ToString());
        Assert.Contains($"no namespace '{name}'", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ns_add_of_an_invalid_name_exits_2()
    {
        var result = await Cli.RunAsync("ns", "add", Box.Token + "/x");
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("invalid namespace name", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_says_no_daemon_is_running()
    {
        var socket = Path.Combine(Path.GetTempPath(), Box.Token + ".sock");
        var result = await Cli.RunAsync("status", "--socket", socket);
        Assert.Equal(1, result.Code);
        Assert.Equal($"aether: no daemon is running: {socket} does not exist (start one with 'aether serve')", result.Stderr.Trim());
    }

    [Theory]
    [InlineData("apply")]
    [InlineData("apply -f x.yaml -o yaml")]
    [InlineData("run -f x.yaml --resync 10")]
    [InlineData("frobnicate")]
    [InlineData("hub attach")]
    [InlineData("hub detach net1")]
    [InlineData("hub peer set")]
    [InlineData("hub peer remove net1")]
    [InlineData("hub peer set net1 --keepalive x")]
    public async Task Bad_arguments_exit_2(string args)
    {
        var result = await Cli.RunAsync(args.Split(' '));
        Assert.True(result.Code == 2, result.ToString());
        Assert.StartsWith("aether: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_command_has_help_with_an_example()
    {
        foreach (var command in new[] { "apply", "diff", "destroy", "run", "ns", "ns list", "ns add", "ns del", "ns watch", "serve", "status", "hub", "hub add", "hub remove", "hub list", "hub status", "hub attach", "hub detach", "hub peer", "hub peer set", "hub peer remove" })
        {
            var help = await Cli.RunAsync([.. command.Split(' '), "--help"]);
            Assert.True(help.Code == 0, command + ": " + help);
            Assert.Contains("  aether " + command.Split(' ')[0], help.Stdout, StringComparison.Ordinal);
            Assert.Contains("Example", help.Stdout, StringComparison.Ordinal);
        }
    }
}
