using System.Diagnostics;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.WireGuard;
using Microsoft.Extensions.Logging;

namespace Aether.Hub.Tests.Integration;

/// <summary>
/// Containers that go while the hub runs, on this machine's kernel (userspace WireGuard): a named container deleted
/// with <c>ip netns del</c>, and a container given by pid whose process exits. Each time its loop goes from
/// <see cref="WireGuardHub.LoopStatuses"/>, its networks say <c>container gone</c>, the host end of its veth leaves the
/// host within seconds (so nothing of the hub kept the namespace alive: <c>ip -j link</c> is the oracle), no pass runs
/// for it afterwards (the loops' own log lines are the witness), the other container's network keeps being repaired,
/// and removing the gone container's network cleans the host side. A named container that comes back (<c>ip netns add</c>
/// of the same name) is taken back: its network active again, its <c>ethN</c> with its address, its loop and its
/// <c>veth-rootN</c> back.
/// </summary>
public sealed class ContainerGoneTests : SandboxTest
{
    private readonly CapturingLoggers _logs = new();
    private NetworkNamespace _host = null!;
    private string _named = null!;
    private string _survivor = null!;
    private WireGuardHub? _hub;

    private string Host => _host.Name!;

    [Fact]
    public async Task A_deleted_named_container_is_let_go_and_its_network_can_still_be_removed()
    {
        var hub = await StartAsync();
        await hub.AddNetworkAsync(Request("gone", 0, _named), default);
        await hub.AddNetworkAsync(Request("stays", 1, _survivor), default);
        Assert.Equal(["hub/host in " + Host, "hub/container " + _named, "hub/container " + _survivor], hub.LoopStatuses().Select(s => s.Source));
        await WaitForAsync(() => Task.FromResult(hub.LoopStatuses().All(s => s.Passes > 0)), 30, "every loop's first pass");
        Assert.NotNull(await Ip.LinkAsync(Host, "veth-root0"));

        await Ip.RunAsync("netns", "del", _named);
        await AssertLetGoAsync(hub, "hub/container " + _named, "veth-root0", "gone", "deleted");
        await AssertOtherNetworkRepairedAsync(hub);

        // Removing the gone container's network cleans the host side: its device, routes and NAT rule.
        await hub.RemoveNetworkAsync("gone", default);
        Assert.Equal(["stays"], hub.ListNetworks().Select(n => n.NetworkId));
        Assert.Null(await Ip.LinkAsync(Host, Box.Name("g") + "0"));
        Assert.DoesNotContain("10.231.0.0/24", string.Join('\n', (await Ip.JsonAsync(Host, "-4", "route", "show")).Select(r => r.GetProperty("dst").GetString())), StringComparison.Ordinal);
        Assert.Equal(HubNetworkState.Active, Assert.Single((await hub.GetStatusAsync(default)).Networks).State);
    }

    [Fact]
    public async Task A_deleted_named_container_that_comes_back_is_taken_back()
    {
        var hub = await StartAsync();
        await hub.AddNetworkAsync(Request("gone", 0, _named), default);
        var loop = "hub/container " + _named;
        await WaitForAsync(() => Task.FromResult(hub.LoopStatuses().All(s => s.Passes > 0)), 30, "every loop's first pass");

        await Ip.RunAsync("netns", "del", _named);
        await WaitForAsync(() => Task.FromResult(!hub.LoopStatuses().Any(s => s.Source == loop)), 30, loop + " stopped");
        Assert.Equal(HubNetworkState.ContainerGone, Assert.Single((await hub.GetStatusAsync(default)).Networks).State);
        await WaitForAsync(async () => await Ip.LinkAsync(Host, "veth-root0") is null, 30, "veth-root0 gone from the host");

        // The same name again (a new, empty namespace): the hub opens it, converges the network, restarts its loop.
        await Ip.RunAsync("netns", "add", _named);
        await WaitForAsync(async () => Assert.Single((await hub.GetStatusAsync(default)).Networks).State == HubNetworkState.Active, 30, "the network active again");
        await WaitForAsync(async () => (await Ip.JsonAsync(_named, "addr", "show")).Any(l => Ip.Str(l, "ifname") == "eth0" && l.GetProperty("addr_info").EnumerateArray().Any(a => a.GetProperty("local").GetString() == "10.231.0.2")), 30, "eth0 with its address in the new namespace");
        await WaitForAsync(() => Task.FromResult(hub.LoopStatuses().Any(s => s.Source == loop && s.Passes > 0)), 30, loop + " back with a pass");
        Assert.Equal(["hub/host in " + Host, loop], hub.LoopStatuses().Select(s => s.Source));
        await WaitForAsync(async () => await Ip.LinkAsync(Host, "veth-root0") is not null, 30, "veth-root0 back in the host");
        var status = Assert.Single((await hub.GetStatusAsync(default)).Networks);
        Assert.Equal(HubNetworkState.Active, status.State);
        Assert.Null(status.Error);
    }

    [Fact]
    public async Task A_pid_container_whose_process_exits_is_let_go_and_the_others_keep_working()
    {
        var process = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "300"]) { UseShellExecute = false })!;
        Box.Own(new Killer(process));
        var own = new FileInfo("/proc/self/ns/net").ResolveLinkTarget(false)!.ToString();
        await WaitForAsync(() => Task.FromResult(new FileInfo($"/proc/{process.Id}/ns/net").ResolveLinkTarget(false)?.ToString() is { } ns && ns != own), 30, "unshare's new namespace");

        var hub = await StartAsync();
        await hub.AddNetworkAsync(Request("gone", 0, null) with { ContainerPid = process.Id }, default);
        await hub.AddNetworkAsync(Request("stays", 1, _survivor), default);
        var pidLoop = "hub/container pid:" + process.Id;
        Assert.Contains(pidLoop, hub.LoopStatuses().Select(s => s.Source));
        Assert.NotNull(await Ip.LinkAsync(Host, "veth-root0"));
        Assert.Equal(0, (await Ip.ExecAsync("nsenter", "--net=/proc/" + process.Id + "/ns/net", "ip", "link", "show", "eth0")).Code);

        process.Kill();
        await process.WaitForExitAsync();
        await AssertLetGoAsync(hub, pidLoop, "veth-root0", "gone", "exited");
        await AssertOtherNetworkRepairedAsync(hub);

        await hub.RemoveNetworkAsync("gone", default);
        Assert.Null(await Ip.LinkAsync(Host, Box.Name("g") + "0"));
        Assert.Equal(["stays"], hub.ListNetworks().Select(n => n.NetworkId));
    }

    protected override async Task SetUpAsync()
    {
        _host = Box.CreateNamespace("h");
        _named = await Box.CreateNamespaceWithIpAsync("n");
        _survivor = await Box.CreateNamespaceWithIpAsync("s");
        foreach (var ns in new[] { Host, _named, _survivor })
        {
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
        }
    }

    protected override async Task TearDownAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }
    }

    /// <summary>The container's loop goes, its network says <c>container gone</c> (and why), its host veth end
    /// leaves the host, and nothing runs or complains about it afterwards.</summary>
    private async Task AssertLetGoAsync(WireGuardHub hub, string loop, string vethRoot, string network, string why)
    {
        await WaitForAsync(() => Task.FromResult(!hub.LoopStatuses().Any(s => s.Source == loop)), 30, loop + " stopped");
        Assert.Equal(2, hub.LoopStatuses().Count);
        var gone = (await hub.GetStatusAsync(default)).Networks.Single(n => n.Network.NetworkId == network);
        Assert.Equal(HubNetworkState.ContainerGone, gone.State);
        Assert.Contains(why, gone.Error, StringComparison.Ordinal);
        Assert.True(gone.DeviceUp); // the host keeps the network's device until the network is removed
        Assert.Equal(HubNetworkState.Active, (await hub.GetStatusAsync(default)).Networks.Single(n => n.Network.NetworkId != network).State);
        await WaitForAsync(async () => (await Ip.LinksAsync(Host)).All(l => Ip.Str(l, "ifname") != vethRoot), 30, vethRoot + " gone from the host");

        // Three resync periods later: no pass of that loop started, and nothing about it was logged but its going.
        var mark = _logs.Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = _logs.Since(mark);
        Assert.DoesNotContain(after, l => l.Message.Contains(loop, StringComparison.Ordinal));
        Assert.DoesNotContain(after, l => l.Level >= LogLevel.Warning);
        Assert.Contains(_logs.Since(0), l => l.Level == LogLevel.Warning && l.Message.Contains("container gone", StringComparison.Ordinal));
        Assert.Contains(after, l => l.Message.Contains("hub/host", StringComparison.Ordinal)); // the host's loop still runs
    }

    /// <summary>The survivor's eth1 deleted by hand is made again with its address: its loops still work.</summary>
    private async Task AssertOtherNetworkRepairedAsync(WireGuardHub hub)
    {
        Assert.NotNull(await Ip.LinkAsync(_survivor, "eth1"));
        await Ip.RunAsync("-n", _survivor, "link", "del", "eth1");
        await WaitForAsync(async () => (await Ip.JsonAsync(_survivor, "addr", "show")).Any(l => Ip.Str(l, "ifname") == "eth1" && l.GetProperty("addr_info").EnumerateArray().Any(a => a.GetProperty("local").GetString() == "10.232.0.2")), 15, "eth1 repaired with its address");
        Assert.Contains("hub/container " + _survivor, hub.LoopStatuses().Select(s => s.Source));
    }

    private async Task<WireGuardHub> StartAsync()
    {
        _hub = await WireGuardHub.StartAsync(new InMemoryHubStore(), new WireGuardHubOptions
        {
            HostNamespace = _host,
            WireGuardPrefix = Box.Name("g"),
            Loop = new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(1), ResyncGrid = TimeSpan.FromMilliseconds(100) },
            LoggerFactory = _logs,
        });
        return _hub;
    }

    private static HubNetworkRequest Request(string id, int index, string? container) => new()
    {
        NetworkId = id,
        Index = index,
        Container = container,
        PrivateKey = WireGuardSecretKey.GeneratePrivate().ToBase64(),
        ListenPort = 51830 + index,
        PeerEndpoint = "192.0.2.1:" + (51830 + index),
        PeerPublicKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString(),
        Address = $"10.23{index + 1}.0.2",
        NetworkCidr = $"10.23{index + 1}.0.0/24",
        Gateway = $"10.23{index + 1}.0.1",
    };

    private static async Task WaitForAsync(Func<Task<bool>> condition, int seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"not within {seconds} s: {what}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the container process (if the test failed before it did) and disposes it when the sandbox is
    /// cleaned up.</summary>
    private sealed class Killer(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
