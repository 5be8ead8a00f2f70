using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Reconcile;
using Aether.Topology;

namespace Aether.Netlink.IntegrationTests.Topology;

/// <summary><c>run</c> follows namespaces: one it created and someone deleted is made again with everything in it;
/// one it only uses stops its loop when it goes and is converged when it comes back; and nothing of the runtime keeps
/// a deleted namespace alive (a veth end of someone else's, left in the host, goes with the namespace). Checked with
/// <c>ip -j</c>.</summary>
public sealed class RuntimeTests : SandboxTest
{
    private readonly string _net = $"10.202.{System.Security.Cryptography.RandomNumberGenerator.GetInt32(256)}.{4 * System.Security.Cryptography.RandomNumberGenerator.GetInt32(64)}";
    private string _ns = null!;
    private string _host = null!;
    private string _state = null!;
    private string _seen = "nothing looked at yet";

    protected override Task SetUpAsync()
    {
        _ns = Box.Name("ns");
        Box.TrackNamespace(_ns);
        _host = Box.TrackHostLink(Box.Name("h"));
        _state = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    private string At(int offset) => _net[..(_net.LastIndexOf('.') + 1)] + (int.Parse(_net[(_net.LastIndexOf('.') + 1)..], System.Globalization.CultureInfo.InvariantCulture) + offset);

    private TopologySpec Spec() => new(Box.Token)
    {
        Namespaces = [new TopologyNamespace(_ns) { Sysctls = [new("net.ipv4.ip_forward", "1")] }],
        Links =
        [
            new TopologyLink(_host, TopologyLinkKind.Veth)
            {
                Mtu = 1400,
                Addresses = [IPPrefix.Parse(At(1) + "/30")],
                Peer = new TopologyPeer("eth0") { Namespace = _ns, Addresses = [IPPrefix.Parse(At(2) + "/30")] },
            },
        ],
        Routes = [new TopologyRoute(_ns, null) { Via = IPAddress.Parse(At(1)) }],
    };

    private TopologyController Controller() => new(Spec(), new ControllerOptions { StateDirectory = _state });

    /// <summary>Runs the topology in the background until the returned stop is disposed.</summary>
    private async Task<(IAsyncDisposable Stop, ConcurrentQueue<ChangeLine> Changes)> RunAsync()
    {
        var applied = await Controller().ApplyAsync();
        Assert.True(applied.Error is null, applied.Error);
        var changes = new ConcurrentQueue<ChangeLine>();
        var cts = new CancellationTokenSource();
        var passed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnReport(PassReport report)
        {
            if (report.Source.StartsWith(_ns + " ", StringComparison.Ordinal))
            {
                passed.TrySetResult();
            }
        }

        var run = Task.Run(() => Controller().RunAsync(new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(30) }, OnReport, changes.Enqueue, cancellationToken: cts.Token));
        var stop = new Stopper(cts, run);

        // The watcher is armed before the first generation starts, and the namespace's loop reports once it has made
        // its first pass: from here on, a deletion is an event the runtime sees. (A fixed delay was too short for a
        // cold process on a busy 2-core machine.)
        if (await Task.WhenAny(passed.Task, run, Task.Delay(TimeSpan.FromSeconds(30))) != passed.Task)
        {
            await stop.DisposeAsync();
            Assert.Fail($"run made no pass in {_ns} within 30 s; it said: " + string.Join("; ", changes.Select(c => $"{c.Kind} {c.Subject}: {c.Reason}")));
        }

        return (stop, changes);
    }

    /// <summary>A veth of someone else's between the host and <paramref name="ns"/>: its host end goes only when the
    /// kernel tears the namespace down, that is when nothing holds it any more.</summary>
    private async Task<string> ForeignWitnessAsync(string ns)
    {
        var witness = Box.TrackHostLink(Box.Name("w"));
        await Ip.RunAsync("-n", ns, "link", "add", "witness", "type", "veth", "peer", "name", witness, "netns", "1");
        return witness;
    }

    private async Task EventuallyAsync(Func<Task<bool>> condition, string what, int milliseconds = 15000, ConcurrentQueue<ChangeLine>? changes = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.ElapsedMilliseconds < milliseconds, $"not within {milliseconds} ms: {what}" + (changes is null ? string.Empty : $"; last look: {_seen}; run said:\n" + string.Join('\n', changes.Select(c => $"{c.Kind} {c.Subject}: {c.Reason}"))));
            await Task.Delay(10);
        }
    }

    private async Task<bool> WholeAsync()
    {
        try
        {
            return await WholeOnceAsync();
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("setting the network namespace", StringComparison.Ordinal))
        {
            return false; // caught between the file and its mount, as `ip netns add` too leaves it for a moment
        }
    }

    private async Task<bool> WholeOnceAsync()
    {
        if (!(await Ip.NetnsNamesAsync()).Contains(_ns) || await Ip.LinkAsync(_ns, "eth0") is not { } peer || await Ip.LinkAsync(null, _host) is not { } host)
        {
            _seen = "the namespace, its eth0 or the host end missing";
            return false;
        }

        var addresses = await Ip.JsonAsync(_ns, "address", "show", "eth0");
        var routes = await Ip.JsonAsync(_ns, "route", "show", "default");
        var (_, forward, _) = await Ip.RunInAsync(_ns, "cat", "/proc/sys/net/ipv4/ip_forward");
        _seen = $"eth0 {string.Join(',', Ip.Flags(peer))}, host end {string.Join(',', Ip.Flags(host))}, {addresses.Length} address sets, {routes.Length} default routes, ip_forward {forward.Trim()}";
        return Ip.Flags(peer).Contains("UP") && Ip.Flags(host).Contains("UP")
            && addresses.Any(a => a.GetProperty("addr_info").EnumerateArray().Any(i => i.GetProperty("local").GetString() == At(2)))
            && routes.Length == 1 && forward.Trim() == "1";
    }

    [Fact]
    public async Task A_far_end_changed_in_its_namespace_is_put_right_at_once_not_at_the_resync()
    {
        var (stop, changes) = await RunAsync();
        await using (stop)
        {
            // The veth is the host's to manage; its far end lives in the namespace. An MTU changed there says
            // nothing to the host end (no event in the host), so only the namespace's monitor sees it: the change
            // wakes the host's loop, which reads that one peer again. The resync is 30 s away; the bound is well
            // inside it.
            for (var trial = 0; trial < 3; trial++)
            {
                await Ip.RunAsync("-n", _ns, "link", "set", "eth0", "mtu", "1300");
                await EventuallyAsync(async () => Ip.Int(await Ip.RequireLinkAsync(_ns, "eth0"), "mtu") == 1400, $"trial {trial}: eth0's MTU back to 1400", milliseconds: 10000, changes: changes);
            }
        }
    }

    [Fact]
    public async Task An_owned_namespace_deleted_by_hand_is_made_again_with_everything_and_the_old_one_is_let_go()
    {
        var (stop, changes) = await RunAsync();
        await using (stop)
        {
            var witness = await ForeignWitnessAsync(_ns);
            for (var trial = 0; trial < 3; trial++)
            {
                await Ip.RunAsync("netns", "del", _ns);
                await EventuallyAsync(WholeAsync, $"trial {trial}: {_ns} back with its veth, address, route and sysctl", changes: changes);
            }

            await EventuallyAsync(async () => await Ip.LinkAsync(null, witness) is null, "the deleted namespace torn down (its witness veth gone from the host)", milliseconds: 20000);
            Assert.Contains(changes, l => l.Subject == "namespace " + _ns && l.Kind == ChangeKind.Delete && l.Reason!.Contains("made again", StringComparison.Ordinal));
            Assert.Contains(changes, l => l.Kind == ChangeKind.Create && l.Subject == "namespace " + _ns);
        }
    }

    [Fact]
    public async Task An_owned_namespace_gone_before_run_looks_is_made_again_whole_at_once()
    {
        Assert.Null((await Controller().ApplyAsync()).Error);
        await Ip.RunAsync("netns", "del", _ns); // before the watcher and the loops exist: no event will tell

        var changes = new ConcurrentQueue<ChangeLine>();
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => Controller().RunAsync(new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(30) }, onReport: null, changes.Enqueue, cancellationToken: cts.Token));
        await using (new Stopper(cts, run))
        {
            await EventuallyAsync(WholeAsync, $"{_ns} back with its veth, address, route and sysctl", milliseconds: 15000, changes: changes);
            Assert.Contains(changes, l => l.Subject == "namespace " + _ns && l.Reason == "missing: made again with everything in it");
        }
    }

    [Fact]
    public async Task A_used_namespace_that_goes_stops_its_loop_once_and_is_converged_when_one_appears_again()
    {
        await Ip.RunAsync("netns", "add", _ns);
        var (stop, changes) = await RunAsync();
        await using (stop)
        {
            var witness = await ForeignWitnessAsync(_ns);
            await Ip.RunAsync("netns", "del", _ns);
            await EventuallyAsync(async () => await Ip.LinkAsync(null, witness) is null, "the deleted namespace torn down (its witness veth gone from the host)", milliseconds: 20000);
            await EventuallyAsync(() => Task.FromResult(changes.Any(l => l.Subject == "namespace " + _ns)), "the namespace's going reported");
            await Task.Delay(300);
            Assert.DoesNotContain(_ns, await Ip.NetnsNamesAsync()); // not ours to make
            Assert.Single(changes, l => l.Subject == "namespace " + _ns);

            await Ip.RunAsync("netns", "add", _ns);
            await EventuallyAsync(WholeAsync, $"{_ns} converged once it appeared again", changes: changes);
            Assert.Contains(changes, l => l.Subject == "namespace " + _ns && l.Reason!.Contains("appeared again", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_used_namespace_deleted_and_made_again_at_once_is_said_to_have_appeared_again_and_is_converged()
    {
        await Ip.RunAsync("netns", "add", _ns);
        var (stop, changes) = await RunAsync();
        await using (stop)
        {
            // Made again before the runtime has done with its going: its creation is then often seen only by the next
            // generation, which finds it there when it starts (the watcher's event for it is one that generation holds
            // already). Said either way, once.
            await Ip.RunAsync("netns", "del", _ns);
            await Ip.RunAsync("netns", "add", _ns);
            await EventuallyAsync(WholeAsync, $"{_ns} converged once it was made again", changes: changes);
            await EventuallyAsync(() => Task.FromResult(changes.Any(l => l.Subject == "namespace " + _ns && l.Reason!.Contains("appeared again", StringComparison.Ordinal))), "its coming back said", milliseconds: 5000, changes: changes);
            await Task.Delay(300);
            Assert.Single(changes, l => l.Subject == "namespace " + _ns && l.Reason!.Contains("appeared again", StringComparison.Ordinal));
        }
    }

    private sealed class Stopper(CancellationTokenSource cts, Task run) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            cts.Dispose();
        }
    }
}
