namespace Aether.Cli.Tests;

/// <summary>
/// Values that pass a plain reading of the file but that the kernel refuses once apply reaches their stage, after
/// earlier stages made namespaces and links. Those the file can tell are caught before anything is touched (exit 2,
/// FILE:LINE:COLUMN); those only the kernel can tell make apply roll back what it created before it exits 1 with the
/// kernel's errno text. Either way <c>ip -j netns</c> and <c>ip -j link</c> show nothing new afterwards.
/// </summary>
public sealed class KernelRefusalTests : CliTest
{
    /// <summary>The file: the test's namespace, a veth into it with <paramref name="addresses"/> on the peer, and
    /// whatever else a case adds.</summary>
    private string Yaml(string addresses, string link = "", string ns = "", string links = "", string tail = "") => $$"""
        name: {{Box.Token}}
        namespaces:
          - name: {{Ns}}
        {{ns}}
        links:
          - name: {{HostEnd}}
            kind: veth
        {{link}}
            peer: { name: {{Peer}}, namespace: {{Ns}}, addresses: [{{addresses}}] }
            up: true
        {{links}}
        {{tail}}
        """;

    public static TheoryData<string> Validated => ["multicast", "broadcast", "unspecified", "ipv6 multicast", "ipv6 below 1280", "vxlan group without parent", "vni twice", "macvlan above parent"];

    public static TheoryData<string> KernelOnly => ["unreachable gateway", "ttl 0", "sysctl not a number", "route dev missing", "macvlan on lo"];

    private (string Yaml, string Position, string Message) ValidatedCase(string which)
    {
        var vx = Box.Name("x");
        var vy = Box.Name("y");
        var mv = Box.Name("m");
        return which switch
        {
            "multicast" => (Yaml("224.0.0.5/24"), ":9:", "links[0].peer.addresses[0]: 224.0.0.5 is a multicast address, which is not an interface address"),
            "broadcast" => (Yaml("255.255.255.255/32"), ":9:", "links[0].peer.addresses[0]: 255.255.255.255 is the broadcast address, which is not an interface address"),
            "unspecified" => (Yaml("0.0.0.0/8"), ":9:", "links[0].peer.addresses[0]: 0.0.0.0 is the unspecified address, which is not an interface address"),
            "ipv6 multicast" => (Yaml("10.213.0.2/30, ff02::5/64"), ":9:", "links[0].peer.addresses[1]: ff02::5 is a multicast address, which is not an interface address"),
            "ipv6 below 1280" => (Yaml("fd00::2/64", link: "    mtu: 1000"), ":9:", "links[0].peer.addresses[0]: fd00::2/64 is IPv6, which needs an MTU of at least 1280, and links[0].mtu is 1000"),
            "vxlan group without parent" => (Yaml("10.213.0.2/30", links: $"  - {{ name: {vx}, kind: vxlan, namespace: {Ns}, vni: 5, remote: 239.1.1.1 }}"), ":11:", "links[1].remote: 239.1.1.1 is a multicast group, which needs parent"),
            "vni twice" => (Yaml("10.213.0.2/30", links: $"  - {{ name: {vx}, kind: vxlan, namespace: {Ns}, vni: 5, remote: 10.213.0.1 }}\n  - {{ name: {vy}, kind: vxlan, namespace: {Ns}, vni: 5, remote: 10.213.0.3 }}"), ":12:", "links[2].vni: VNI 5 is already used in namespace '" + Ns + "' by links[1].vni (line 11)"),
            _ => (Yaml("10.213.0.2/30", links: $"  - {{ name: {mv}, kind: macvlan, namespace: {Ns}, parent: {Peer}, mtu: 9000 }}"), ":11:", $"links[1].mtu: 9000 is larger than its parent {Peer}'s MTU 1500"),
        };
    }

    private (string Yaml, string Message) KernelCase(string which) => which switch
    {
        "unreachable gateway" => (Yaml("10.213.0.2/30", tail: $"routes:\n  - {{ namespace: {Ns}, to: 10.50.0.0/24, via: 10.99.0.1 }}"),
            "add route 10.50.0.0/24: ENETUNREACH (Network is unreachable): Nexthop has invalid gateway"),
        "ttl 0" => (Yaml("10.213.0.2/30", ns: "    sysctls: { net.ipv4.ip_default_ttl: 0 }"), "the kernel rejects '0': write sysctl net.ipv4.ip_default_ttl in " + Ns + ": EINVAL (Invalid argument)"),
        "sysctl not a number" => (Yaml("10.213.0.2/30", ns: "    sysctls: { net.ipv4.ip_forward: abc }"), "the kernel rejects 'abc': write sysctl net.ipv4.ip_forward in " + Ns + ": EINVAL (Invalid argument)"),
        "route dev missing" => (Yaml("10.213.0.2/30", tail: $"routes:\n  - {{ namespace: {Ns}, to: 10.50.0.0/24, dev: {Box.Name("z")} }}"), $"link {Box.Name("z")} missing"),
        _ => (Yaml("10.213.0.2/30", links: $"  - {{ name: {Box.Name("m")}, kind: macvlan, namespace: {Ns}, parent: lo }}"), "create macvlan " + Box.Name("m") + ": EINVAL (Invalid argument)"),
    };

    [Theory]
    [MemberData(nameof(Validated))]
    public async Task A_value_the_kernel_would_refuse_later_is_caught_before_anything_is_touched(string which)
    {
        var (yaml, position, message) = ValidatedCase(which);
        var before = await SnapshotAsync();
        var result = await AetherAsync("apply", Write("bad.yaml", yaml));
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("bad.yaml" + position, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());
        Assert.False(Directory.Exists(Path.Combine(Dir, "state", Box.Token)));
    }

    [Theory]
    [MemberData(nameof(KernelOnly))]
    public async Task A_value_only_the_kernel_refuses_rolls_back_what_the_apply_created(string which)
    {
        var (yaml, message) = KernelCase(which);
        var before = await SnapshotAsync();
        var result = await AetherAsync("apply", Write("bad.yaml", yaml));
        Assert.True(result.Code == 1, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"rolled back what this apply created (link {HostEnd}, namespace {Ns})", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"- namespace {Ns} (rolled back)", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(null, HostEnd));

        // Nothing stale is left for the next apply: the file without the bad value applies from scratch.
        var good = await AetherAsync("apply");
        Assert.True(good.Code == 0, good.ToString());
        Assert.Contains($"+ namespace {Ns}\n", good.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_update_removes_only_what_it_created_and_keeps_what_was_there()
    {
        var first = await AetherAsync("apply");
        Assert.True(first.Code == 0, first.ToString());
        var before = await SnapshotAsync();

        var extra = Box.TrackHostLink(Box.Name("e"));
        var bridge = Box.Name("b");
        var update = Yaml("10.213.0.2/30",
            links: $"  - {{ name: {bridge}, kind: bridge, namespace: {Ns} }}\n  - {{ name: {extra}, kind: veth, peer: {{ name: {Box.Name("f")}, namespace: {Ns} }} }}",
            tail: $"routes:\n  - {{ namespace: {Ns}, to: 10.50.0.0/24, via: 10.99.0.1 }}");
        var result = await AetherAsync("apply", Write("update.yaml", update));
        Assert.True(result.Code == 1, result.ToString());
        Assert.Contains("ENETUNREACH (Network is unreachable)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("rolled back what this apply created", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("link " + bridge, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("link " + extra, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("namespace " + Ns + ")", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
        Assert.NotNull(await Ip.LinkAsync(Ns, Peer));
    }

    [Fact]
    public async Task A_failed_update_removes_the_wireguard_device_it_created()
    {
        var first = await AetherAsync("apply");
        Assert.True(first.Code == 0, first.ToString());
        var before = await SnapshotAsync();

        var wg = Box.Name("w");
        var update = Yaml("10.213.0.2/30",
            links: $"  - {{ name: {wg}, kind: wireguard, namespace: {Ns}, listenPort: 51999, addresses: [10.214.0.1/24] }}",
            tail: $"routes:\n  - {{ namespace: {Ns}, to: 10.50.0.0/24, via: 10.99.0.1 }}");
        var result = await AetherAsync("apply", Write("update.yaml", update));
        Assert.True(result.Code == 1, result.ToString());
        Assert.Contains("ENETUNREACH (Network is unreachable)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"rolled back what this apply created (wireguard {wg})", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"- wireguard {wg} (rolled back)", result.Stdout, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(Ns, wg));
        Assert.Equal(before, await SnapshotAsync());
        // Its wireguard-go ended with the device (the kernel here has no WireGuard: the userspace one served it).
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (System.IO.File.Exists($"/var/run/wireguard/{wg}.sock") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(System.IO.File.Exists($"/var/run/wireguard/{wg}.sock"), "wireguard-go still serves the rolled-back device");
    }
}
