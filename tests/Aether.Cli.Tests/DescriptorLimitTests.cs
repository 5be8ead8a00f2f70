using System.Text;

namespace Aether.Cli.Tests;

/// <summary>An apply that creates more namespaces than the process's descriptor limit could hold with a socket
/// open in each: the new namespaces' sockets join the socket budget share by share, so the namespaces' own
/// descriptors and the budget's sockets fit. All at once, 10,000 new namespaces under a limit of 20,000 ended in
/// <c>EMFILE</c>; here 510 under a limit of 1000 (run under <c>prlimit</c>, so no other test's limit changes).</summary>
public sealed class DescriptorLimitTests : CliTest
{
    private const int Namespaces = 510;
    private const int Limit = 1000;

    [Fact]
    public async Task An_apply_creates_more_namespaces_than_a_socket_each_would_fit_under_the_descriptor_limit()
    {
        var yaml = new StringBuilder($"name: {Box.Token}\nnamespaces:\n");
        var names = new List<string>();
        for (var i = 0; i < Namespaces; i++)
        {
            var ns = Box.Name("d" + i);
            Box.TrackNamespace(ns);
            names.Add(ns);
            yaml.Append($"  - name: {ns}\n");
        }

        var file = Write("many.yaml", yaml.ToString());
        var applied = await LimitedAsync("apply", "-f", file, "--state-dir", Path.Combine(Dir, "state"));
        Assert.True(applied.Code == 0, applied.ToString());
        var present = await Ip.NetnsNamesAsync();
        Assert.All(names, n => Assert.Contains(n, present));

        var again = await LimitedAsync("apply", "-f", file, "--state-dir", Path.Combine(Dir, "state"));
        Assert.True(again.Code == 0, again.ToString());
        Assert.Contains("in sync", again.Stdout, StringComparison.Ordinal);

        var destroyed = await AetherAsync("destroy", file);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
    }

    /// <summary><c>aether ARGS</c> with its descriptor limit (soft and hard) set to <see cref="Limit"/>.</summary>
    private static async Task<Cli.Result> LimitedAsync(params string[] args)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync(TimeSpan.FromSeconds(60), "prlimit", [$"--nofile={Limit}:{Limit}", "--", Cli.BinaryPath, .. args]);
        return new Cli.Result(code, stdout, stderr);
    }
}
