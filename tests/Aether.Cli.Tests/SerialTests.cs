using System.Diagnostics;
using System.Text;

namespace Aether.Cli.Tests;

/// <summary>Tests that time things (a running <c>aether run</c>, a held lock) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}

/// <summary><c>aether run</c> repairs drift and stops cleanly on SIGTERM; two <c>apply</c> of one topology are
/// serialized by its lock.</summary>
[Collection(SerialCollection.Name)]
public sealed class SerialTests : CliTest
{
    [Fact]
    public async Task Run_repairs_a_link_deleted_with_ip_and_stops_on_SIGTERM()
    {
        using var run = Cli.Start("run", "-f", File, "--state-dir", Path.Combine(Dir, "state"), "--resync", "1s");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        run.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        run.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        string Out()
        {
            lock (stdout)
            {
                return stdout + "--- stderr\n" + stderr;
            }
        }

        try
        {
            await WaitForAsync(() => Task.FromResult(Out().Contains("running: ", StringComparison.Ordinal)), "run to converge", Out);
            Assert.NotNull(await Ip.LinkAsync(null, HostEnd));
            Assert.Contains($"+ veth {HostEnd} ↔ {Ns}/{Peer}", Out(), StringComparison.Ordinal);

            await Ip.RunAsync("link", "del", HostEnd);
            await WaitForAsync(
                async () => await Ip.LinkAsync(null, HostEnd) is not null && await Ip.LinkAsync(Ns, Peer) is not null
                    && (await Ip.RunAsync("-n", Ns, "addr", "show", "dev", Peer)).Contains("10.213.0.2/30", StringComparison.Ordinal),
                "the veth and its address to come back",
                Out);
            // The namespace's loop may log its own pass first: wait for the host's line itself.
            var repaired = new System.Text.RegularExpressions.Regex(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[host of " + Box.Token + @"\] converged in \d+ ms: create link " + HostEnd);
            await WaitForAsync(() => Task.FromResult(repaired.IsMatch(Out())), "the repair to be logged", Out);

            // The namespace itself deleted by hand: run makes it again with everything in it, and says so.
            await Ip.RunAsync("netns", "del", Ns);
            await WaitForAsync(
                async () => (await Ip.NetnsNamesAsync()).Contains(Ns)
                    && (await Ip.TryRunAsync("-n", Ns, "addr", "show", "dev", Peer)).Stdout.Contains("10.213.0.2/30", StringComparison.Ordinal), // try: the name's file may not be mounted yet
                "the namespace, its veth end and its address to come back",
                Out);
            await WaitForAsync(() => Task.FromResult(Out().Contains($"[runtime] + veth {HostEnd} ↔ {Ns}/{Peer}", StringComparison.Ordinal)), "the namespace's repair to be logged", Out);
            Assert.Contains($"[runtime] - namespace {Ns} (deleted outside Aether: ours, so it is made again with everything in it)", Out(), StringComparison.Ordinal);
            Assert.Contains($"[runtime] + namespace {Ns}", Out(), StringComparison.Ordinal);

            Cli.Terminate(run);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await run.WaitForExitAsync(cts.Token);
            Assert.True(run.ExitCode == 0, Out());
            Assert.Contains("stopped", Out(), StringComparison.Ordinal);
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
                await run.WaitForExitAsync();
            }
        }
    }

    [Fact]
    public async Task Apply_waits_for_another_holding_the_lock_then_succeeds()
    {
        Task<Cli.Result> pending;
        using (Cli.HoldLock(Box.Token))
        {
            pending = AetherAsync("apply");
            await Task.Delay(1500);
            Assert.False(pending.IsCompleted, "apply did not wait for the lock");
            Assert.Null(await Ip.LinkAsync(null, HostEnd));
        }

        var result = await pending;
        Assert.True(result.Code == 0, result.ToString());
        Assert.Contains($"aether: waiting for another aether working on {Box.Token} (lock /run/aether/{Box.Token}.lock)", result.Stderr, StringComparison.Ordinal);
        Assert.NotNull(await Ip.LinkAsync(null, HostEnd));
    }

    [Fact]
    public async Task Run_stopped_by_SIGTERM_while_it_waits_for_the_lock_leaves_cleanly_having_touched_nothing()
    {
        using (Cli.HoldLock(Box.Token))
        {
            using var run = Cli.Start("run", "-f", File, "--state-dir", Path.Combine(Dir, "state"));
            var stderr = new StringBuilder();
            run.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
            run.BeginErrorReadLine();
            var stdout = run.StandardOutput.ReadToEndAsync();
            try
            {
                await WaitForAsync(() => Task.FromResult(Locked(stderr).Contains("waiting for another aether", StringComparison.Ordinal)), "run to wait for the lock", () => Locked(stderr));
                Cli.Terminate(run);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await run.WaitForExitAsync(cts.Token);
                Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {await stdout}{Locked(stderr)}");
                Assert.Contains("stopped before it started", await stdout, StringComparison.Ordinal);
                Assert.Null(await Ip.LinkAsync(null, HostEnd));
                Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());
            }
            finally
            {
                if (!run.HasExited)
                {
                    run.Kill(entireProcessTree: true);
                    await run.WaitForExitAsync();
                }
            }
        }
    }

    private static string Locked(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    [Fact]
    public async Task Two_concurrent_applies_of_one_topology_both_converge()
    {
        var results = await Task.WhenAll(AetherAsync("apply"), AetherAsync("apply"));
        Assert.All(results, r => Assert.True(r.Code == 0, r.ToString()));
        Assert.Single(results, r => r.Stdout.Contains($"+ veth {HostEnd}", StringComparison.Ordinal));
        Assert.Single(results, r => r.Stdout.Contains("in sync: nothing to do", StringComparison.Ordinal));
        Assert.NotNull(await Ip.LinkAsync(null, HostEnd));
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition, string what, Func<string> output)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"timed out waiting for {what}\n{output()}");
    }
}
