using System.Diagnostics;
using System.Net.Sockets;
using Aether.Reconcile;
using Aether.WireGuard;
using Aether.Netlink.Namespaces;

namespace Aether.Hub.Tests.Integration;

/// <summary>
/// Container references that name something other than a network namespace of their own, on this machine's kernel:
/// a FIFO (which must not hang the request), a regular file, <c>/dev/null</c>, a directory, a socket file, a mount
/// namespace, a process that exited (400); the host's namespace by path, by pid and by name, and one namespace under
/// two references (409). Each time the oracle (<c>ip -j link</c> in the hub's host namespace and in the container,
/// the store, the hub's list) shows nothing was made.
/// </summary>
public sealed class ContainerReferenceTests : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-hubref-").FullName;
    private readonly InMemoryHubStore _store = new();
    private NetworkNamespace _host = null!;
    private string _container = null!;
    private WireGuardHub? _hub;

    public static TheoryData<string, string> NotNamespaces => new()
    {
        { "fifo", "is a FIFO, not a network namespace" },
        { "file", "is a regular file, not a network namespace" },
        { "/dev/null", "is a character device, not a network namespace" },
        { "dir", "is a directory, not a network namespace" },
        { "socket", "is a socket, not a network namespace" },
        { "/proc/self/ns/mnt", "is a mount namespace, not a network namespace" },
        { "/proc/self/ns/uts", "is a UTS namespace, not a network namespace" },
        { "missing", "ENOENT" },
    };

    [Theory]
    [MemberData(nameof(NotNamespaces))]
    public async Task A_path_that_is_not_a_network_namespace_is_refused_with_400_and_nothing_changes(string what, string expected)
    {
        var path = what.StartsWith('/') ? what : Path.Combine(_dir, what);
        switch (what)
        {
            case "fifo":
                Assert.Equal(0, (await Ip.ExecAsync("mkfifo", path)).Code);
                break;
            case "file":
                await File.WriteAllTextAsync(path, "not a namespace\n");
                break;
            case "dir":
                Directory.CreateDirectory(path);
                break;
            case "socket":
                Box.Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)).Bind(new UnixDomainSocketEndPoint(path));
                break;
        }

        var hub = await StartAsync();
        var refused = await RefusedAsync(hub, Request(0) with { Container = path }, HubErrorKind.Invalid);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("container", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("a name under /run/netns", error.Message, StringComparison.Ordinal);
        await AssertNothingMadeAsync(hub);
    }

    [Fact]
    public async Task A_process_that_exited_is_refused_with_400_naming_containerPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        var hub = await StartAsync();
        var refused = await RefusedAsync(hub, Request(0) with { Container = null, ContainerPid = process.Id }, HubErrorKind.Invalid);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("containerPid", error.Field);
        Assert.Contains("ESRCH", error.Message, StringComparison.Ordinal);
        await AssertNothingMadeAsync(hub);
    }

    [Fact]
    public async Task The_hosts_namespace_by_path_by_pid_and_by_name_is_refused_with_409()
    {
        var hub = await StartAsync();
        foreach (var (request, what) in new[]
        {
            (Request(0) with { Container = "/proc/self/ns/net" }, "this process's network namespace"),
            (Request(0) with { Container = null, ContainerPid = Environment.ProcessId }, "this process's network namespace"),
            (Request(0) with { Container = _host.Name }, "the hub's host network namespace"),
            (Request(0) with { Container = "/run/netns/" + _host.Name }, "the hub's host network namespace"),
        })
        {
            var refused = await RefusedAsync(hub, request, HubErrorKind.Conflict);
            Assert.Contains(what, refused.Message, StringComparison.Ordinal);
            Assert.StartsWith(request.ContainerPid is null ? "container: " : "containerPid: ", refused.Message, StringComparison.Ordinal);
            await AssertNothingMadeAsync(hub);
        }
    }

    /// <summary>Init's namespace: 409 where this process may open <c>/proc/1/ns/net</c>; where it may not (a PID
    /// namespace whose init is not dumpable, as on this test machine) the open's EACCES is the 400.</summary>
    [Fact]
    public async Task Inits_namespace_by_path_and_by_pid_1_is_refused()
    {
        var hub = await StartAsync();
        bool readable;
        try
        {
            NetworkNamespace.OpenPath("/proc/1/ns/net").Dispose();
            readable = true;
        }
        catch (Aether.Netlink.NetlinkException e) when (e.Errno == 13)
        {
            readable = false;
        }

        foreach (var request in new[] { Request(0) with { Container = "/proc/1/ns/net" }, Request(0) with { Container = null, ContainerPid = 1 } })
        {
            var refused = await RefusedAsync(hub, request, readable ? HubErrorKind.Conflict : HubErrorKind.Invalid);
            Assert.Contains(readable ? "the host's network namespace (init's, /proc/1/ns/net)" : "EACCES", refused.Message, StringComparison.Ordinal);
            Assert.Contains(request.ContainerPid is null ? "container: " : "containerPid: ", refused.Message, StringComparison.Ordinal);
            await AssertNothingMadeAsync(hub);
        }
    }

    [Fact]
    public async Task One_namespace_under_a_second_reference_is_refused_with_409_naming_the_other_network()
    {
        var hub = await StartAsync();
        await hub.AddNetworkAsync(Request(0) with { NetworkId = "first" }, default);
        var linksBefore = Names(await Ip.LinksAsync(_host.Name!));
        var containerBefore = Names(await Ip.LinksAsync(_container));

        var holder = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", _container, "sleep", "300"]) { UseShellExecute = false })!;
        Box.Own(new Killer(holder));
        foreach (var other in new[] { "/run/netns/" + _container, "/proc/PID/ns/net", "pid" })
        {
            var request = other switch
            {
                "pid" => Request(1) with { Container = null, ContainerPid = await InsideAsync(holder) },
                "/proc/PID/ns/net" => Request(1) with { Container = $"/proc/{await InsideAsync(holder)}/ns/net" },
                _ => Request(1) with { Container = other },
            };
            var refused = await RefusedAsync(hub, request, HubErrorKind.Conflict);
            Assert.Contains("is the same network namespace as container " + _container + " of network first", refused.Message, StringComparison.Ordinal);
            Assert.Equal(linksBefore, Names(await Ip.LinksAsync(_host.Name!)));
            Assert.Equal(containerBefore, Names(await Ip.LinksAsync(_container)));
            Assert.Equal(["first"], (await _store.LoadAsync(default)).Select(n => n.NetworkId));
            Assert.Equal(["first"], hub.ListNetworks().Select(n => n.NetworkId));
        }

        // The same reference twice is one container with two networks, as before.
        var second = await hub.AddNetworkAsync(Request(1) with { NetworkId = "second" }, default);
        Assert.True(second.Created);
    }

    [Fact]
    public async Task A_fifo_does_not_hold_the_hub_other_requests_go_through()
    {
        var fifo = Path.Combine(_dir, "fifo");
        Assert.Equal(0, (await Ip.ExecAsync("mkfifo", fifo)).Code);
        var hub = await StartAsync();
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, 4).Select(_ => RefusedAsync(hub, Request(0) with { Container = fifo }, HubErrorKind.Invalid)).ToList();
        var good = hub.AddNetworkAsync(Request(2) with { NetworkId = "good" }, default);
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await good.WaitAsync(TimeSpan.FromSeconds(30))).Created);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());
    }

    protected override async Task SetUpAsync()
    {
        _host = Box.CreateNamespace("h");
        _container = await Box.CreateNamespaceWithIpAsync("c");
        await Ip.RunAsync("-n", _host.Name!, "link", "set", "lo", "up");
    }

    protected override async Task TearDownAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The request is refused as <paramref name="kind"/>, quickly (a FIFO must not make it wait).</summary>
    private static async Task<HubException> RefusedAsync(WireGuardHub hub, HubNetworkRequest request, HubErrorKind kind)
    {
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.AddNetworkAsync(request, default).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(refused.Kind == kind, refused.Message);
        return refused;
    }

    /// <summary>No link but lo in the host namespace (no wgN, no veth-rootN), none but lo in the container, no row
    /// in the store, no network in the hub.</summary>
    private async Task AssertNothingMadeAsync(WireGuardHub hub)
    {
        Assert.Equal(["lo"], Names(await Ip.LinksAsync(_host.Name!)));
        Assert.Equal(["lo"], Names(await Ip.LinksAsync(_container)));
        Assert.Empty(await _store.LoadAsync(default));
        Assert.Empty(hub.ListNetworks());
    }

    private static List<string> Names(IEnumerable<System.Text.Json.JsonElement> links) => [.. links.Select(l => Ip.Str(l, "ifname") ?? "").Order(StringComparer.Ordinal)];

    /// <summary>The pid of the process <c>ip netns exec</c> runs inside the container, once it is in there.</summary>
    private async Task<int> InsideAsync(Process holder)
    {
        using var ns = NetworkNamespace.Open(_container);
        for (var i = 0; i < 200; i++)
        {
            using var its = NetworkNamespace.OpenPid(holder.Id);
            if (its.Inode == ns.Inode)
            {
                return holder.Id;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"{holder.Id} never entered {_container}");
    }

    private async Task<WireGuardHub> StartAsync()
    {
        _hub = await WireGuardHub.StartAsync(_store, new WireGuardHubOptions
        {
            HostNamespace = _host,
            WireGuardPrefix = Box.Name("g"),
            Loop = new ReconcileLoopOptions { Resync = TimeSpan.FromSeconds(1), ResyncGrid = TimeSpan.FromMilliseconds(100) },
        });
        return _hub;
    }

    private HubNetworkRequest Request(int index) => new()
    {
        NetworkId = "net-" + index,
        Index = index,
        Container = _container,
        PrivateKey = WireGuardSecretKey.GeneratePrivate().ToBase64(),
        ListenPort = 51840 + index,
        PeerEndpoint = "192.0.2.1:" + (51840 + index),
        PeerPublicKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString(),
        Address = $"10.24{index + 1}.0.2",
        NetworkCidr = $"10.24{index + 1}.0.0/24",
        Gateway = $"10.24{index + 1}.0.1",
    };

    /// <summary>Kills the process holding the container when the sandbox is cleaned up.</summary>
    private sealed class Killer(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
