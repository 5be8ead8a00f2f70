using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Aether.Cli.Tests;

/// <summary><c>kill -9</c> at random points of <c>apply</c> and of <c>destroy</c>: the next <c>apply</c> converges,
/// the next <c>destroy</c> leaves nothing behind (no namespace, no link, no file under <c>/run/netns</c>), and no run
/// ever leaves an object no record or mark can prove is the topology's.</summary>
public sealed class CrashTests : CliTest
{
    private const int Namespaces = 12;

    private string ManyYaml()
    {
        var yaml = new StringBuilder($"name: {Box.Token}\nnamespaces:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            var ns = Box.Name("n" + i);
            Box.TrackNamespace(ns);
            yaml.Append($"  - name: {ns}\n    sysctls: {{ net.ipv4.ip_forward: \"1\" }}\n");
        }

        yaml.Append("links:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            var host = Box.TrackHostLink(Box.Name("v" + i));
            yaml.Append($"  - {{ name: {host}, kind: veth, up: true, addresses: [10.214.{i}.1/30], peer: {{ name: eth0, namespace: {Box.Name("n" + i)}, addresses: [10.214.{i}.2/30] }} }}\n");
        }

        return yaml.ToString();
    }

    /// <summary>Starts <c>aether ARGS</c> and kills it with SIGKILL after <paramref name="after"/>, or lets it finish.</summary>
    private static async Task KillAfterAsync(TimeSpan after, params string[] args)
    {
        using var process = Cli.Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(after));
        if (!process.HasExited)
        {
            process.Kill(); // SIGKILL: no handler runs
        }

        await process.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
    }

    private async Task<string> LeftoversAsync()
    {
        var namespaces = (await Ip.NetnsNamesAsync()).Where(n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        var links = (await Ip.LinkNamesAsync(null)).Where(n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        var files = Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns", Box.Token + "*").Select(Path.GetFileName) : [];
        return string.Join(" ", [.. namespaces, .. links, .. files]);
    }

    [Fact]
    public async Task Killed_at_random_points_of_apply_and_destroy_it_recovers_with_nothing_left()
    {
        var file = Write("many.yaml", ManyYaml());
        string[] Args(string command) => [command, "-f", file, "--state-dir", Path.Combine(Dir, "state")];

        // How long a whole apply takes here, to kill inside it.
        var clock = Stopwatch.StartNew();
        var full = await Cli.RunAsync(Args("apply"));
        var span = clock.Elapsed;
        Assert.True(full.Code == 0, full.ToString());
        Assert.Equal(0, (await Cli.RunAsync(Args("destroy"))).Code);
        Assert.Equal(string.Empty, await LeftoversAsync());

        for (var trial = 0; trial < 8; trial++)
        {
            var at = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(1, Math.Max(2, (int)span.TotalMilliseconds)));
            await KillAfterAsync(at, Args("apply"));
            var again = await Cli.RunAsync(Args("apply"));
            Assert.True(again.Code == 0, $"trial {trial}, killed after {at.TotalMilliseconds} ms: {again}");
            var diff = await Cli.RunAsync(Args("diff"));
            Assert.True(diff.Code == 0, $"trial {trial}: not in sync after the second apply: {diff}");

            var destroyAt = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(1, 60));
            await KillAfterAsync(destroyAt, Args("destroy"));
            var gone = await Cli.RunAsync(Args("destroy"));
            Assert.True(gone.Code == 0, $"trial {trial}, destroy killed after {destroyAt.TotalMilliseconds} ms: {gone}");
            Assert.True(await LeftoversAsync() is var left && left.Length == 0, $"trial {trial}: left behind: {left}\n{gone}");
        }
    }
}
