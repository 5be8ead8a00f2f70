using Aether.WireGuard;

namespace Aether.Topology.Tests;

/// <summary>WireGuard links as the reader sees them: every field read into <see cref="TopologyWireGuard"/>, and bad
/// keys, key files others can read, overlapping allowed IPs between peers, a port twice in one namespace and fields on
/// the wrong kind refused with the field named (exit 2 in the CLI: nothing touched).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WireGuardReaderTests
{
    private const string Key = "kHLZcE5B1ii6C/IgAGleRlSwbv0wQlADGNS37f3t21I=";
    private const string Peer1 = "8kmIhrfF03ioSJx18cwaIPWeHLpEobD490KBjlP4R3s=";
    private const string Peer2 = "C/DZ/4D0EWO9aeD0vU+HODwsF17iKtddcqKzma+1WS8=";
    private const string Head = "name: t\nnamespaces:\n  - name: n1\nlinks:\n";

    [Fact]
    public void Every_field_is_read()
    {
        var link = Assert.Single(Load.Valid(Head + $$"""
              - name: wg0
                kind: wireguard
                namespace: n1
                privateKey: {{Key}}
                listenPort: 51820
                fwmark: 4660
                mtu: 1380
                addresses: [10.9.0.1/24]
                peers:
                  - { publicKey: {{Peer1}}, endpoint: "192.0.2.7:51821", allowedIPs: [10.9.0.2/32, 10.10.0.0/16], persistentKeepalive: 25 }
                  - { publicKey: {{Peer2}}, endpoint: "[2001:db8::1]:51822", allowedIPs: [10.9.0.3/32] }
            """ + "\n").Links);
        Assert.Equal(TopologyLinkKind.WireGuard, link.Kind);
        var wg = link.WireGuard!;
        Assert.Equal(WireGuardSecretKey.Parse(Key), wg.PrivateKey);
        Assert.Equal((ushort)51820, wg.ListenPort);
        Assert.Equal(4660u, wg.FirewallMark);
        Assert.Equal(1380, link.Mtu);
        Assert.Equal(2, wg.Peers.Count);
        Assert.Equal(WireGuardKey.Parse(Peer1), wg.Peers[0].PublicKey);
        Assert.Equal("192.0.2.7:51821", wg.Peers[0].Endpoint!.ToString());
        Assert.Equal(["10.9.0.2/32", "10.10.0.0/16"], wg.Peers[0].AllowedIPs.Select(a => a.ToString()));
        Assert.Equal((ushort)25, wg.Peers[0].PersistentKeepalive);
        Assert.Equal("[2001:db8::1]:51822", wg.Peers[1].Endpoint!.ToString());
    }

    [Fact]
    public void Without_a_key_it_is_to_be_generated() =>
        Assert.Null(Assert.Single(Load.Valid(Head + "  - { name: wg0, kind: wireguard, namespace: n1 }\n").Links).WireGuard!.PrivateKey);

    [Theory]
    [InlineData("privateKey: abc", "links[0].privateKey", "not a WireGuard private key")]
    [InlineData("privateKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "links[0].privateKey", "not all zero")]
    [InlineData("peers: [{ publicKey: nope }]", "links[0].peers[0].publicKey", "not a WireGuard public key")]
    [InlineData("peers: [{ allowedIPs: [10.0.0.0/8] }]", "links[0].peers[0]", "publicKey")]
    [InlineData("peers: [{ publicKey: " + Peer1 + ", endpoint: example.org:51820 }]", "links[0].peers[0].endpoint", "names are not resolved")]
    [InlineData("peers: [{ publicKey: " + Peer1 + ", endpoint: \"192.0.2.1\" }]", "links[0].peers[0].endpoint", "ADDRESS:PORT")]
    [InlineData("peers: [{ publicKey: " + Peer1 + ", endpoint: \"2001:db8::1:51820\" }]", "links[0].peers[0].endpoint", "ADDRESS:PORT")]
    [InlineData("listenPort: 0", "links[0].listenPort", "outside 1..65535")]
    [InlineData("master: br0", "links[0].master", "cannot be a bridge port")]
    [InlineData("peers: [{ publicKey: " + Peer1 + ", allowedIPs: [10.0.0.1/32, 10.0.0.1/32] }]", "links[0].peers[0].allowedIPs[1]", "already listed")]
    public void A_bad_field_is_refused(string field, string path, string text)
    {
        var result = Load.Parse(Head + "  - { name: wg0, kind: wireguard, namespace: n1, " + field + " }\n");
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Message.StartsWith(path, StringComparison.Ordinal) && e.Message.Contains(text, StringComparison.Ordinal));
    }

    [Fact]
    public void Overlapping_allowed_ips_between_two_peers_of_one_device_are_refused()
    {
        var error = Assert.Single(Load.Parse(Head + $$"""
              - name: wg0
                kind: wireguard
                namespace: n1
                peers:
                  - { publicKey: {{Peer1}}, allowedIPs: [10.0.0.0/16] }
                  - { publicKey: {{Peer2}}, allowedIPs: [10.1.0.0/16, 10.0.5.0/24] }
            """ + "\n").Errors);
        Assert.Equal("links[0].peers[1].allowedIPs[1]: 10.0.5.0/24 overlaps 10.0.0.0/16 of another peer (links[0].peers[0].allowedIPs[0]): WireGuard routes an address to one peer only, so the two peers' allowed IPs must not overlap", error.Message);
    }

    [Fact]
    public void Thousands_of_overlapping_peers_are_judged_quickly_with_one_error_per_prefix()
    {
        // The fuzz test found a pairwise check hanging on this (every peer clashing with every other).
        var peers = string.Concat(Enumerable.Range(0, 4000).Select(i =>
            $"      - {{ publicKey: {WireGuardSecretKey.FromBytes(BitConverter.GetBytes(i + 1).Concat(new byte[28]).ToArray()).ToBase64()}, allowedIPs: [10.0.0.0/8, 10.{i % 250}.{i / 250}.0/24] }}\n"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var errors = Load.Parse(Head + "  - name: wg0\n    kind: wireguard\n    namespace: n1\n    peers:\n" + peers).Errors;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(2 * 4000 - 1, errors.Count(e => e.Message.Contains("overlaps", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_same_peer_twice_and_the_devices_own_key_are_refused()
    {
        var own = WireGuardSecretKey.Parse(Key).GetPublicKey();
        var errors = Load.Parse(Head + $$"""
              - name: wg0
                kind: wireguard
                namespace: n1
                privateKey: {{Key}}
                peers:
                  - { publicKey: {{Peer1}} }
                  - { publicKey: {{Peer1}} }
                  - { publicKey: {{own}} }
            """ + "\n").Errors.Select(e => e.Message).ToList();
        Assert.Contains("links[0].peers[1].publicKey: this peer is already listed at links[0].peers[0]", errors);
        Assert.Contains("links[0].peers[2].publicKey: is the device's own public key", errors);
    }

    [Fact]
    public void A_port_twice_in_one_namespace_is_refused_and_in_two_namespaces_is_not()
    {
        var error = Assert.Single(Load.Parse("name: t\nnamespaces:\n  - name: n1\n  - name: n2\nlinks:\n"
            + "  - { name: wg0, kind: wireguard, namespace: n1, listenPort: 51820 }\n"
            + "  - { name: wg1, kind: wireguard, namespace: n1, listenPort: 51820 }\n"
            + "  - { name: wg2, kind: wireguard, namespace: n2, listenPort: 51820 }\n").Errors);
        Assert.StartsWith("links[1].listenPort: UDP port 51820 is already used in namespace 'n1' by links[0].listenPort", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_name_twice_in_the_file_is_refused_as_wireguard_go_names_are_machine_wide()
    {
        var errors = Load.Parse("name: t\nnamespaces:\n  - name: n1\n  - name: n2\nlinks:\n"
            + "  - { name: wg0, kind: wireguard, namespace: n1 }\n"
            + "  - { name: wg0, kind: wireguard, namespace: n2 }\n").Errors;
        Assert.Contains(errors, e => e.Message.StartsWith("links[1].name: wireguard device 'wg0' is already declared at links[0].name", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("privateKey: " + Key)]
    [InlineData("listenPort: 51820")]
    [InlineData("fwmark: 1")]
    [InlineData("peers: []")]
    public void WireGuard_fields_on_another_kind_are_refused(string field)
    {
        var key = field[..field.IndexOf(':', StringComparison.Ordinal)];
        var result = Load.Parse(Head + "  - { name: br0, kind: bridge, " + field + " }\n");
        Assert.Contains(result.Errors, e => e.Message == $"links[0].{key}: only for wireguard links, and this one is a bridge");
    }

    [Fact]
    public void A_key_file_is_read_only_when_its_owner_alone_can_read_it()
    {
        var dir = Directory.CreateTempSubdirectory("aetwgkey");
        try
        {
            var path = Path.Combine(dir.FullName, "wg0.key");
            File.WriteAllText(path, Key + "\n");
            var yaml = Head + "  - { name: wg0, kind: wireguard, namespace: n1, privateKeyFile: wg0.key }\n";
            foreach (var (mode, word) in new[] { ("644", "read"), ("640", "read"), ("602", "reach"), ("660", "read") })
            {
                File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));
                var error = Assert.Single(TopologyLoader.Parse(yaml, "topo.yaml", dir.FullName).Errors);
                Assert.Equal($"links[0].privateKeyFile: wg0.key: mode 0{mode} lets others than its owner {word} the private key; it must be readable by its owner only (chmod 600 wg0.key)", error.Message);
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var loaded = TopologyLoader.Parse(yaml, "topo.yaml", dir.FullName);
            Assert.True(loaded.IsValid, string.Join('\n', loaded.Errors));
            Assert.Equal(WireGuardSecretKey.Parse(Key), loaded.Topology!.Links[0].WireGuard!.PrivateKey);
            Assert.Equal(path, loaded.Topology.Links[0].WireGuard!.PrivateKeyFile);

            File.WriteAllText(path, "not a key\n");
            Assert.Contains("does not hold a WireGuard private key", Assert.Single(TopologyLoader.Parse(yaml, "topo.yaml", dir.FullName).Errors).Message, StringComparison.Ordinal);
            Assert.Contains("no such file", Assert.Single(TopologyLoader.Parse(yaml.Replace("wg0.key", "missing.key", StringComparison.Ordinal), "topo.yaml", dir.FullName).Errors).Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
