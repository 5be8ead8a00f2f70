using System.Diagnostics;

namespace Aether.Cli.Tests;

/// <summary>
/// While another process keeps a lab (the daemon holds <c>STATE/labs/NAME/keeper.lock</c> while its runtime runs),
/// <c>aether lab deploy</c>, <c>destroy</c> and <c>run</c> refuse it, naming the keeper, and change nothing: the keeper
/// would repair what destroy removes. The keeper here is a stand-in that holds the lock as the daemon does
/// (<c>flock(1)</c>, its pid in the file); the daemon's side is checked in the server's tests.
/// </summary>
public sealed class LabKeeperTests : SandboxTest
{
    private string _dir = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        foreach (var node in new[] { "a", "b" })
        {
            Box.TrackNamespace($"{Box.Token}-{node}");
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_lab_kept_by_another_process_is_refused_until_it_lets_go()
    {
        var state = Path.Combine(_dir, "state");
        var file = Path.Combine(_dir, "lab.yaml");
        await File.WriteAllTextAsync(file, $$"""
            name: {{Box.Token}}
            nodes:
              a: { kind: linux }
              b: { kind: linux }
            links:
              - endpoints: ["a:eth1", "b:eth1"]
            """);
        var deployed = await Cli.RunAsync(["lab", "deploy", "-f", file, "--state-dir", state]);
        Assert.True(deployed.Code == 0, deployed.ToString());

        var lockFile = Path.Combine(state, "labs", Box.Token, "keeper.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!); // the daemon makes it when it takes the lock
        using var keeper = Process.Start(new ProcessStartInfo("sh", ["-c", "echo $$ > \"$0\"; exec flock -x -o \"$0\" sleep 120", lockFile]) { UseShellExecute = false })!;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!await HeldAsync(lockFile))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the stand-in did not take the lock");
                await Task.Delay(20);
            }

            var before = await OwnNamespacesAsync();
            foreach (var args in new[] { new[] { "destroy", "-f", file }, ["deploy", "-f", file], ["run", Box.Token] })
            {
                var refused = await Cli.RunAsync(["lab", .. args, "--state-dir", state]);
                Assert.True(refused.Code == 1, refused.ToString());
                Assert.Contains($"lab {Box.Token} is kept by the daemon (aether serve, pid {keeper.Id})", refused.Stderr, StringComparison.Ordinal);
                Assert.Contains("nothing was changed", refused.Stderr, StringComparison.Ordinal);
            }

            Assert.Equal(before, await OwnNamespacesAsync()); // only ours: other tests make theirs meanwhile
            Assert.NotNull(await Ip.LinkAsync($"{Box.Token}-a", "eth1"));
        }
        finally
        {
            keeper.Kill(entireProcessTree: true);
            await keeper.WaitForExitAsync();
        }

        // Let go (the kernel dropped the lock with the process; the file stays): destroy goes through.
        var destroyed = await Cli.RunAsync(["lab", "destroy", "-f", file, "--state-dir", state]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
    }

    private async Task<List<string>> OwnNamespacesAsync() =>
        [.. (await Ip.NetnsNamesAsync()).Where(n => n.StartsWith(Box.Token, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>Whether someone holds the file's lock (<c>flock -n</c> fails then).</summary>
    private static async Task<bool> HeldAsync(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var probe = Process.Start(new ProcessStartInfo("flock", ["-n", path, "true"]) { UseShellExecute = false })!;
        await probe.WaitForExitAsync();
        return probe.ExitCode != 0;
    }
}
