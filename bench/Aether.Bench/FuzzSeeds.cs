namespace Aether.Bench;

/// <summary>The valid files the fuzzer mutates: the repository's examples and files that use what the examples do not
/// (bridge, vxlan, macvlan, routes with tables and metrics, NAT, sysctls; the ovs fabric, MTUs, every vendor).</summary>
internal static class FuzzSeeds
{
    public static readonly string[] Topologies =
    [
        """
        name: aetfz-all
        namespaces:
          - name: aetfz-a
            sysctls: { net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 0 }
            nat:
              - masquerade: { source: 10.9.0.0/24, out: up0 }
          - name: aetfz-b
        links:
          - { name: br0, kind: bridge, namespace: aetfz-a, up: true, mtu: 1500, addresses: [10.9.0.1/24, "fd00::1/64"] }
          - name: up0
            kind: veth
            namespace: aetfz-a
            master: br0
            peer: { name: eth0, namespace: aetfz-b, addresses: [10.9.0.2/24] }
          - { name: vx0, kind: vxlan, namespace: aetfz-a, vni: 42, remote: 192.0.2.1, local: 192.0.2.2, port: 4789 }
          - { name: mv0, kind: macvlan, namespace: aetfz-b, parent: eth0, mode: bridge }
        routes:
          - { namespace: aetfz-b, to: default, via: 10.9.0.1 }
          - { namespace: aetfz-b, to: 10.10.0.0/16, dev: eth0, metric: 100, table: 200, onlink: true }
          - { namespace: aetfz-a, to: "fd01::/64", via: "fd00::2" }
        """,
        """
        name: aetfz-min
        namespaces: [{ name: aetfz-ns }]
        links:
          - name: aetfz-h
            kind: veth
            peer: { name: aetfz-p, namespace: aetfz-ns }
            up: true
        """,
    ];

    public static readonly string[] Labs =
    [
        """
        name: aetfzl
        fabric: ovs
        nodes:
          r1: { kind: arista_ceos }
          r2: { kind: juniper_vmx }
          r3: { kind: cisco_iosxr }
          r4: { kind: nokia_srlinux }
          h1: { kind: linux }
        links:
          - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
            mtu: 9000
          - endpoints: ["r2:ge-0/0/1", "r3:GigabitEthernet0/0/0/0"]
          - endpoints: ["r3:Gi0/0/0/1", "r4:ethernet-1/1"]
          - endpoints: ["r4:ethernet-1/2", "h1:eth1"]
            mtu: 68
        """,
        """
        name: aetfzm
        nodes:
          a: { kind: linux }
          b: { kind: linux }
        links:
          - endpoints: ["a:eth1", "b:eth1"]
        """,
    ];

    /// <summary>The built-in seeds and every <c>*.yaml</c> in <paramref name="directories"/> under
    /// <paramref name="root"/> (not recursive).</summary>
    public static List<string> With(string[] builtIn, string root, params string[] directories)
    {
        var seeds = new List<string>(builtIn);
        foreach (var dir in directories)
        {
            var path = Path.Combine(root, dir);
            if (Directory.Exists(path))
            {
                seeds.AddRange(Directory.EnumerateFiles(path, "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText));
            }
        }

        return seeds;
    }

    /// <summary>The repository root (where Aether.slnx is), from <paramref name="start"/> up.</summary>
    public static string RepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aether.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Aether.slnx not found above " + start);
    }
}
