using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aether.Cli.Tests;

/// <summary>
/// A VXLAN whose tunnel runs in another namespace (<c>underlay</c>), against the real kernel: two "host" namespaces
/// joined by a veth (the underlay, 192.168.213.0/30), a node namespace per host with a VXLAN <c>eth1</c> created from
/// its host's namespace. Checked with <c>ip -j -d link</c> (the VNI, <c>link_netnsid</c> naming the host namespace),
/// <c>ss -u -a -n</c> (the UDP socket is in the host namespace, not the node's) and ping across the tunnel.
/// </summary>
public sealed partial class UnderlayTests : CliTest
{
    private const int Vni = 1001;

    private string _hostA = null!;
    private string _hostB = null!;
    private string _nodeA = null!;
    private string _nodeB = null!;

    protected override async Task SetUpAsync()
    {
        await base.SetUpAsync();
        _hostA = await Box.CreateNamespaceWithIpAsync("ha");
        _hostB = await Box.CreateNamespaceWithIpAsync("hb");
        _nodeA = await Box.CreateNamespaceWithIpAsync("na"); // there before: used, not created
        _nodeB = Box.Name("nb"); // created by apply
        Box.TrackNamespace(_nodeB);
        await MakeUnderlayAsync();
    }

    /// <summary>The veth between the two host namespaces, 192.168.213.1/30 ↔ .2/30, up and settled.</summary>
    private async Task MakeUnderlayAsync()
    {
        var underlay = Box.Name("u");
        await Ip.RunAsync("-n", _hostA, "link", "add", underlay, "type", "veth", "peer", "name", underlay, "netns", _hostB);
        await Ip.RunAsync("-n", _hostA, "addr", "add", "192.168.213.1/30", "dev", underlay);
        await Ip.RunAsync("-n", _hostB, "addr", "add", "192.168.213.2/30", "dev", underlay);
        await Ip.RunAsync("-n", _hostA, "link", "set", underlay, "up");
        await Ip.RunAsync("-n", _hostB, "link", "set", underlay, "up");

        // Settled before any test takes a snapshot: the veth's carrier comes a moment after it is set up.
        var clock = Stopwatch.StartNew();
        while (Ip.Str(await Ip.RequireLinkAsync(_hostA, underlay), "operstate") != "UP" || Ip.Str(await Ip.RequireLinkAsync(_hostB, underlay), "operstate") != "UP")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the underlay veth did not come up");
            await Task.Delay(20);
        }
    }

    private string TwoHosts(string extraA = "") => $$"""
        name: {{Box.Token}}
        namespaces:
          - name: {{_hostA}}
          - name: {{_hostB}}
          - name: {{_nodeA}}
          - name: {{_nodeB}}
        links:
          - { name: eth1, kind: vxlan, namespace: {{_nodeA}}, vni: {{Vni}}, remote: 192.168.213.2, port: 4789, underlay: {{_hostA}}, addresses: [10.214.0.1/24]{{extraA}} }
          - { name: eth1, kind: vxlan, namespace: {{_nodeB}}, vni: {{Vni}}, remote: 192.168.213.1, port: 4789, underlay: {{_hostB}}, addresses: [10.214.0.2/24] }
        """;

    [Fact]
    public async Task Two_nodes_ping_across_their_hosts_underlay_and_a_second_apply_changes_nothing()
    {
        var file = Write("two.yaml", TwoHosts());
        var first = await AetherAsync("apply", file);
        Assert.True(first.Code == 0, first.ToString());
        Assert.Contains($"+ vxlan {_nodeA}/eth1 (VNI {Vni}, tunnel in {_hostA})", first.Stdout, StringComparison.Ordinal);
        Assert.Contains($"+ namespace {_nodeB}\n", first.Stdout, StringComparison.Ordinal);

        await AssertTunnelAsync(_nodeA, _hostA);
        await AssertTunnelAsync(_nodeB, _hostB);
        await AssertPingAsync(_nodeA, "10.214.0.2");
        await AssertPingAsync(_nodeB, "10.214.0.1");

        // No flapping: the kernel's view of a right VXLAN is judged right.
        var indexA = Ip.Int(await Ip.RequireLinkAsync(_nodeA, "eth1"), "ifindex");
        var indexB = Ip.Int(await Ip.RequireLinkAsync(_nodeB, "eth1"), "ifindex");
        var diff = await AetherAsync("diff", file);
        Assert.True(diff.Code == 0, diff.ToString());
        var second = await AetherAsync("apply", file);
        Assert.True(second.Code == 0, second.ToString());
        Assert.Matches(InSync(), second.Stdout);
        Assert.Equal(indexA, Ip.Int(await Ip.RequireLinkAsync(_nodeA, "eth1"), "ifindex"));
        Assert.Equal(indexB, Ip.Int(await Ip.RequireLinkAsync(_nodeB, "eth1"), "ifindex"));

        // Destroy: the node namespace apply made is gone, the one that was there stays without the VXLAN, and the
        // host namespaces (used) keep their underlay but no longer have the tunnel's socket.
        var destroy = await AetherAsync("destroy", file);
        Assert.True(destroy.Code == 0, destroy.ToString());
        var namespaces = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(_nodeB, namespaces);
        Assert.Contains(_nodeA, namespaces);
        Assert.Contains(_hostA, namespaces);
        Assert.Null(await Ip.LinkAsync(_nodeA, "eth1"));
        Assert.NotNull(await Ip.LinkAsync(_hostA, Box.Name("u")));
        Assert.False(await HasUdpPortAsync(_hostA, 4789));
        Assert.False(await HasUdpPortAsync(_hostB, 4789));
    }

    [Fact]
    public async Task Drift_is_repaired_by_apply_a_deleted_vxlan_and_one_remade_by_hand_without_underlay()
    {
        var file = Write("two.yaml", TwoHosts());
        Assert.Equal(0, (await AetherAsync("apply", file)).Code);

        // Deleted in the node namespace.
        await Ip.RunAsync("-n", _nodeA, "link", "del", "eth1");
        var diff = await AetherAsync("diff", file);
        Assert.True(diff.Code == 3, diff.ToString());
        var repair = await AetherAsync("apply", file);
        Assert.True(repair.Code == 0, repair.ToString());
        Assert.Contains($"+ vxlan {_nodeA}/eth1 (VNI {Vni}, tunnel in {_hostA})", repair.Stdout, StringComparison.Ordinal);
        await AssertTunnelAsync(_nodeA, _hostA);
        await AssertPingAsync(_nodeA, "10.214.0.2");

        // Remade by hand with the same VNI, remote and port (and our mark), but in the node namespace: its socket is
        // there, not in the host. That is drift, and it is recreated from the host namespace.
        await Ip.RunAsync("-n", _nodeB, "link", "del", "eth1");
        await Ip.RunAsync("-n", _nodeB, "link", "add", "eth1", "type", "vxlan", "id", Vni.ToString(System.Globalization.CultureInfo.InvariantCulture), "remote", "192.168.213.1", "dstport", "4789");
        await Ip.RunAsync("-n", _nodeB, "link", "set", "eth1", "alias", "aether:" + Box.Token, "up");
        await Ip.RunAsync("-n", _nodeB, "addr", "add", "10.214.0.2/24", "dev", "eth1");
        Assert.True(await HasUdpPortAsync(_nodeB, 4789));
        Assert.Null(Ip.Int(await Ip.RequireLinkAsync(_nodeB, "eth1"), "link_netnsid"));
        diff = await AetherAsync("diff", file);
        Assert.True(diff.Code == 3, diff.ToString());
        Assert.Contains($"its tunnel is in this namespace, want it in {_hostB}", diff.Stdout, StringComparison.Ordinal);
        repair = await AetherAsync("apply", file);
        Assert.True(repair.Code == 0, repair.ToString());
        await AssertTunnelAsync(_nodeB, _hostB);
        await AssertPingAsync(_nodeB, "10.214.0.1");

        var again = await AetherAsync("apply", file);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Matches(InSync(), again.Stdout);
    }

    [Fact]
    public async Task Run_repairs_a_deleted_vxlan_and_one_remade_without_underlay()
    {
        var file = Write("two.yaml", TwoHosts());
        await RunAsync(file, async output =>
        {
            await SerialTests.WaitForAsync(() => Task.FromResult(output().Contains("running: ", StringComparison.Ordinal)), "run to converge", output);
            await AssertTunnelAsync(_nodeA, _hostA);

            await Ip.RunAsync("-n", _nodeA, "link", "del", "eth1");
            await SerialTests.WaitForAsync(async () => await TunnelInAsync(_nodeA, _hostA) && await PingsAsync(_nodeA, "10.214.0.2"), "the deleted vxlan to come back through its host", output);

            // The host namespace deleted: the kernel takes the vxlan with it (its socket's namespace); made again
            // with it once the namespace is back, and carries traffic again once the underlay veth is made again.
            await Ip.RunAsync("netns", "del", _hostA);
            await SerialTests.WaitForAsync(async () => await Ip.LinkAsync(_nodeA, "eth1") is null, "the vxlan to go with its underlay namespace", output);
            await Ip.RunAsync("netns", "add", _hostA);
            await SerialTests.WaitForAsync(() => TunnelInAsync(_nodeA, _hostA), "the vxlan to be made again once its underlay namespace is back", output);
            Assert.True(await HasUdpPortAsync(_hostA, 4789));
            await MakeUnderlayAsync();
            await AssertPingAsync(_nodeA, "10.214.0.2");
        });

        // Remade by hand while no run is there (a running one recreates a deleted eth1 at once): the next run's first
        // pass finds it with its socket in the node namespace, and recreates it through the host.
        await Ip.RunAsync("-n", _nodeB, "link", "del", "eth1");
        await Ip.RunAsync("-n", _nodeB, "link", "add", "eth1", "type", "vxlan", "id", Vni.ToString(System.Globalization.CultureInfo.InvariantCulture), "remote", "192.168.213.1", "dstport", "4789");
        await Ip.RunAsync("-n", _nodeB, "link", "set", "eth1", "alias", "aether:" + Box.Token, "up");
        Assert.True(await HasUdpPortAsync(_nodeB, 4789));
        await RunAsync(file, async output =>
        {
            await SerialTests.WaitForAsync(async () => await TunnelInAsync(_nodeB, _hostB) && await PingsAsync(_nodeB, "10.214.0.1"), "the hand-made vxlan to be recreated through its host", output);
            Assert.False(await HasUdpPortAsync(_nodeB, 4789));
            Assert.Contains($"its tunnel is in this namespace, want it in {_hostB}", output(), StringComparison.Ordinal);
        });
    }

    /// <summary>Runs <c>aether run</c> on <paramref name="file"/> while <paramref name="body"/> runs, then stops it
    /// with SIGTERM and checks it exits 0.</summary>
    private async Task RunAsync(string file, Func<Func<string>, Task> body)
    {
        using var run = Cli.Start("run", "-f", file, "--state-dir", Path.Combine(Dir, "state"), "--resync", "1s");
        var output = new StringBuilder();
        run.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        run.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        string Out()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            await body(Out);
            Cli.Terminate(run);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await run.WaitForExitAsync(cts.Token);
            Assert.True(run.ExitCode == 0, Out());
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
    public async Task The_host_namespace_as_underlay_keeps_the_socket_in_the_host_and_nothing_else_there()
    {
        // Only a UDP socket on a port nobody uses is made in the host namespace: no address, route or interface. The
        // node namespace has IPv6 off before the VXLAN is made there, and no IPv4 address, so the VXLAN sends nothing
        // (its remote is 127.0.0.1 all the same, so anything sent would stay on the host's loopback).
        await Ip.RunAsync("netns", "exec", _nodeA, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        var port = Enumerable.Range(0, 50).Select(_ => System.Security.Cryptography.RandomNumberGenerator.GetInt32(42000, 43000)).First(p => !HasUdpPortAsync(null, p).GetAwaiter().GetResult());
        var yaml = $$"""
            name: {{Box.Token}}
            namespaces:
              - name: {{_nodeA}}
            links:
              - { name: eth1, kind: vxlan, namespace: {{_nodeA}}, vni: {{Vni}}, remote: 127.0.0.1, port: {{port}}, underlay: host }
            """;
        var file = Write("host.yaml", yaml);
        var apply = await AetherAsync("apply", file);
        Assert.True(apply.Code == 0, apply.ToString());
        Assert.Contains($"+ vxlan {_nodeA}/eth1 (VNI {Vni}, tunnel in the host)", apply.Stdout, StringComparison.Ordinal);

        var link = await Ip.RequireLinkAsync(_nodeA, "eth1");
        Assert.Equal(Vni, Ip.InfoData(link).GetProperty("id").GetInt32());
        Assert.Equal(port, Ip.InfoData(link).GetProperty("port").GetInt32());
        Assert.NotNull(Ip.Int(link, "link_netnsid"));
        Assert.True(await HasUdpPortAsync(null, port), $"no UDP socket on {port} in the host namespace");
        Assert.False(await HasUdpPortAsync(_nodeA, port));
        Assert.DoesNotContain(await Ip.LinksAsync(null), l => Ip.Str(l, "ifalias") == "aether:" + Box.Token); // the device is the node's only

        var again = await AetherAsync("apply", file);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Matches(InSync(), again.Stdout);

        var destroy = await AetherAsync("destroy", file);
        Assert.True(destroy.Code == 0, destroy.ToString());
        Assert.Null(await Ip.LinkAsync(_nodeA, "eth1"));
        Assert.False(await HasUdpPortAsync(null, port), $"the UDP socket on {port} is still in the host namespace");
    }

    public static TheoryData<string> BadInput => ["on a veth", "on a bridge", "undeclared", "its own namespace", "invalid name"];

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_underlay_input_exits_2_and_changes_nothing(string which)
    {
        var undeclared = Box.Name("zz");
        var (link, message) = which switch
        {
            "on a veth" => ($"  - {{ name: {Box.Name("v")}, kind: veth, namespace: {_nodeA}, underlay: {_hostA}, peer: {{ name: {Box.Name("w")} }} }}", "links[0].underlay: only for vxlan links, and this one is a veth"),
            "on a bridge" => ($"  - {{ name: {Box.Name("b")}, kind: bridge, namespace: {_nodeA}, underlay: host }}", "links[0].underlay: only for vxlan links, and this one is a bridge"),
            "undeclared" => ($"  - {{ name: eth1, kind: vxlan, namespace: {_nodeA}, vni: 5, remote: 192.168.213.2, underlay: {undeclared} }}", $"links[0].underlay: namespace '{undeclared}' is not declared under namespaces"),
            "its own namespace" => ($"  - {{ name: eth1, kind: vxlan, namespace: {_nodeA}, vni: 5, remote: 192.168.213.2, underlay: {_nodeA} }}", $"links[0].underlay: '{_nodeA}' is the link's own namespace"),
            _ => ($"  - {{ name: eth1, kind: vxlan, namespace: {_nodeA}, vni: 5, remote: 192.168.213.2, underlay: \"a/b\" }}", "links[0].underlay: "),
        };
        var yaml = $"name: {Box.Token}\nnamespaces:\n  - name: {_hostA}\n  - name: {_nodeA}\n  - name: {_nodeB}\nlinks:\n{link}\n";
        var before = await SnapshotAsync();
        var result = await AetherAsync("apply", Write("bad.yaml", yaml));
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("bad.yaml:7:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        var after = await SnapshotAsync();
        Assert.True(before == after, "before:\n" + before + "\nafter:\n" + after);
        Assert.DoesNotContain(_nodeB, await Ip.NetnsNamesAsync());
        Assert.False(Directory.Exists(Path.Combine(Dir, "state", Box.Token)));
    }

    [GeneratedRegex(@"^in sync: nothing to do \(\d+ objects, \d+ ms\)$", RegexOptions.Multiline)]
    private static partial Regex InSync();

    /// <summary>The VXLAN in <paramref name="node"/> has the VNI, and its tunnel is in <paramref name="host"/>: the
    /// kernel names that namespace's nsid as its link_netnsid, and the UDP socket is there, not in the node.</summary>
    private async Task AssertTunnelAsync(string node, string host)
    {
        var link = await Ip.RequireLinkAsync(node, "eth1");
        Assert.Equal("vxlan", Ip.InfoKind(link));
        Assert.Equal(Vni, Ip.InfoData(link).GetProperty("id").GetInt32());
        Assert.Equal(4789, Ip.InfoData(link).GetProperty("port").GetInt32());
        Assert.True(await TunnelInAsync(node, host), $"link_netnsid of {node}/eth1 does not name {host}: {link.GetRawText()}\n{await Ip.RunAsync("-n", node, "netns", "list-id")}");
        Assert.True(await HasUdpPortAsync(host, 4789), $"no UDP socket on 4789 in {host}");
        Assert.False(await HasUdpPortAsync(node, 4789), $"a UDP socket on 4789 in {node}");
        Assert.Equal("aether:" + Box.Token, Ip.Str(link, "ifalias"));
    }

    private static async Task<bool> TunnelInAsync(string node, string host)
    {
        if (await Ip.LinkAsync(node, "eth1") is not { } link || Ip.Int(link, "link_netnsid") is not { } nsid)
        {
            return false;
        }

        var ids = await Ip.RunAsync("-n", node, "netns", "list-id");
        return ids.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"nsid {nsid} (iproute2 netns name: {host})"), StringComparison.Ordinal);
    }

    private static async Task<bool> HasUdpPortAsync(string? ns, int port)
    {
        var args = new[] { "-u", "-a", "-n", "-H" };
        var (code, stdout, stderr) = ns is null ? await Ip.ExecAsync("ss", args) : await Ip.RunInAsync(ns, "ss", args);
        Assert.True(code == 0, stderr);
        var suffix = ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return stdout.Split('\n').Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 4 } cols && cols[3].EndsWith(suffix, StringComparison.Ordinal));
    }

    private static async Task<bool> PingsAsync(string ns, string address) =>
        (await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "2", address)).Code == 0;

    private static async Task AssertPingAsync(string ns, string address)
    {
        // The first packet waits for ARP across the tunnel: a few tries.
        for (var i = 0; i < 3; i++)
        {
            if (await PingsAsync(ns, address))
            {
                return;
            }
        }

        var (_, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "2", address);
        Assert.Fail($"{ns} cannot ping {address}: {stdout}{stderr}");
    }
}
