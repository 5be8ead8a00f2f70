using System.Globalization;
using System.Text.Json;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;
using Aether.Labs.Store;
using static Aether.Labs.Cluster.Tests.Agent.PlacedLabs;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// Lab links between two simulated hosts carried by WireGuard (<c>transport: wireguard</c>), agents in this process,
/// wireguard-go as the WireGuard (the kernel here has none). The oracles: <c>wg show</c>, <c>ip -j -d</c>, ping
/// across, psql, and tcpdump on the underlay's bridge.
/// </summary>
public sealed class WireGuardAgentTests(PostgresServer fixture) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Links_over_wireguard_share_one_tunnel_per_host_pair_are_encrypted_heal_and_go()
    {
        await using var hosts = await SimulatedHosts.CreateAsync(2);
        await using var db = await ClusterDb.CreateAsync(fixture.Server);
        await using var labs = LabStore.Open(db.Server.Url(db.Name), hosts.StateDirectory);
        await labs.MigrateAsync();
        // A resync far longer than the test: what is repaired is repaired by a kernel event or a hint.
        await using var agents = new InProcessAgents(db, labs, hosts, o => o with { Resync = TimeSpan.FromMinutes(5) });
        try
        {
            agents.Start(1);
            agents.Start(2);
            await agents.RegisteredAsync();
            var lab = hosts.Prefix;
            var cluster = new ClusterLabs(db.Store, labs);
            var full = Definition(lab, withWireGuard: true);
            var deployed = await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60));
            Assert.True(deployed.AllUp, Describe(deployed));

            // One tunnel for the pair, its slot in the database; one device on each host, the other host its only peer.
            var slot = int.Parse((await db.ScalarAsync($"SELECT slot FROM cluster_wireguard_tunnels WHERE lab = '{lab}' AND host_a = 'h1' AND host_b = 'h2'"))!, CultureInfo.InvariantCulture);
            var port = CrossHostWireGuard.PortOf(slot);
            var (h1, h2) = (HostId.Parse("h1"), HostId.Parse("h2"));
            var dev1 = CrossHostWireGuard.DeviceName(lab, h1, h2);
            var dev2 = CrossHostWireGuard.DeviceName(lab, h2, h1);
            Assert.Equal([dev1], await TunnelDevicesAsync(hosts.HostNamespace(1), lab));
            Assert.Equal([dev2], await TunnelDevicesAsync(hosts.HostNamespace(2), lab));
            var key1 = await WgAsync(hosts.HostNamespace(1), "show", dev1, "public-key");
            var key2 = await WgAsync(hosts.HostNamespace(2), "show", dev2, "public-key");
            Assert.Equal(key1, await db.ScalarAsync("SELECT wireguard_key FROM cluster_hosts WHERE id = 'h1'"));
            Assert.Equal(key2, await db.ScalarAsync("SELECT wireguard_key FROM cluster_hosts WHERE id = 'h2'"));
            Assert.Equal(port.ToString(CultureInfo.InvariantCulture), await WgAsync(hosts.HostNamespace(1), "show", dev1, "listen-port"));
            Assert.Equal($"{key2}\t192.168.250.2:{port}", await WgAsync(hosts.HostNamespace(1), "show", dev1, "endpoints"));
            Assert.Equal($"{key2}\t{CrossHostWireGuard.InnerAddress(slot, h2, h1)}/32", await WgAsync(hosts.HostNamespace(1), "show", dev1, "allowed-ips"));
            Assert.Equal(1440, (await SimulatedHosts.LinkAsync(hosts.HostNamespace(1), dev1))!.Value.GetProperty("mtu").GetInt32()); // 1390 + VXLAN's 50

            // The private keys stay on their hosts: 0600 files there, in no row of the database.
            var keyFile = Path.Combine(hosts.StateDirectory, "h1", "wireguard", "host.key");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            var privateKey = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.Equal(key1, Aether.WireGuard.WireGuardSecretKey.Parse(privateKey).GetPublicKey().ToString());
            var everything = await db.ScalarAsync("SELECT string_agg(query_to_xml(format('SELECT * FROM %I', table_name), true, false, '')::text, '') FROM information_schema.tables WHERE table_schema = 'public'");
            Assert.Contains(key1, everything, StringComparison.Ordinal);
            Assert.DoesNotContain(privateKey, everything, StringComparison.Ordinal);

            // Each WireGuard link is a VXLAN between the tunnel's inner addresses, its MTU 1500 - 50 - 60; the VXLAN
            // link goes over the underlay as before.
            var r1eth1 = (await SimulatedHosts.LinkAsync($"{lab}-r1", "eth1"))!.Value;
            Assert.Equal(CrossHostWireGuard.InnerAddress(slot, h2, h1).ToString(), r1eth1.GetProperty("linkinfo").GetProperty("info_data").GetProperty("remote").GetString());
            Assert.Equal(1390, r1eth1.GetProperty("mtu").GetInt32());
            var r3eth1 = (await SimulatedHosts.LinkAsync($"{lab}-r3", "eth1"))!.Value;
            Assert.Equal("192.168.250.2", r3eth1.GetProperty("linkinfo").GetProperty("info_data").GetProperty("remote").GetString());
            Assert.Equal(1450, r3eth1.GetProperty("mtu").GetInt32());

            await AddressAsync(lab, ("r1", "eth1", "10.62.12.1"), ("r2", "eth1", "10.62.12.2"), ("r1", "eth2", "10.62.22.1"), ("r2", "eth2", "10.62.22.2"), ("r3", "eth1", "10.62.34.3"), ("r4", "eth1", "10.62.34.4"));
            await PingAsync($"{lab}-r1", "10.62.12.2");
            await PingAsync($"{lab}-r1", "10.62.22.2");
            await PingAsync($"{lab}-r3", "10.62.34.4");
            // A full-size frame crosses: 1390 bytes, DF set.
            await SimulatedHosts.RunAsync("ip", "netns", "exec", $"{lab}-r1", "ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1362", "10.62.12.2");

            // On the underlay: the WireGuard link is UDP between the hosts' tunnel ports, its ICMP never seen; the VXLAN
            // link's ICMP is seen inside its VXLAN (the capture could see it).
            var capture = await CaptureAsync(hosts.Underlay, async () =>
            {
                await SimulatedHosts.RunAsync("ip", "netns", "exec", $"{lab}-r1", "ping", "-c", "3", "-i", "0.2", "10.62.12.2");
                await SimulatedHosts.RunAsync("ip", "netns", "exec", $"{lab}-r3", "ping", "-c", "3", "-i", "0.2", "10.62.34.4");
            });
            var tunnel = string.Create(CultureInfo.InvariantCulture, $"IP 192.168.250.1.{port} > 192.168.250.2.{port}: UDP");
            Assert.True(capture.Contains(tunnel, StringComparison.Ordinal), $"no '{tunnel}' in the capture:\n{capture}");
            Assert.True(capture.Contains("IP 10.62.34.3 > 10.62.34.4: ICMP echo request", StringComparison.Ordinal), $"the VXLAN link's ICMP not seen:\n{capture}");
            Assert.False(capture.Contains("10.62.12.", StringComparison.Ordinal), $"the WireGuard link's inner traffic seen:\n{capture}");

            // Drift in the tunnel. Its device deleted: the agent's monitor in the host's namespace hears it (the resync is
            // minutes away) and the device is back with its peer. Its peer removed with wg, which raises no kernel
            // event: it waits for a pass, here one a re-deploy's hint wakes. Traffic crosses again after each.
            await SimulatedHosts.IpAsync("-n", hosts.HostNamespace(1), "link", "del", dev1);
            await UntilAsync(async () => (await WgTryAsync(hosts.HostNamespace(1), "show", dev1, "endpoints")).Contains(key2, StringComparison.Ordinal), "the deleted tunnel back with its peer", seconds: 15);
            await PingAsync($"{lab}-r1", "10.62.12.2");
            await WgAsync(hosts.HostNamespace(2), "set", dev2, "peer", key1, "remove");
            Assert.True((await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60))).AllUp);
            Assert.Contains(key1, await WgAsync(hosts.HostNamespace(2), "show", dev2, "peers"), StringComparison.Ordinal);
            await PingAsync($"{lab}-r2", "10.62.22.1");

            // An agent restarted keeps its key: the same public key registered and on the device.
            await agents.StopAsync(1);
            agents.Start(1);
            var again = await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60));
            Assert.True(again.AllUp, Describe(again));
            Assert.Equal(key1, await db.ScalarAsync("SELECT wireguard_key FROM cluster_hosts WHERE id = 'h1'"));
            Assert.Equal(key1, await WgAsync(hosts.HostNamespace(1), "show", dev1, "public-key"));

            // Without its WireGuard links the pair's tunnel goes (devices and row); the VXLAN link stays.
            var smaller = Definition(lab, withWireGuard: false);
            var shrunk = await cluster.DeployAsync(Read(smaller), smaller, TimeSpan.FromSeconds(60));
            Assert.True(shrunk.AllUp, Describe(shrunk));
            await UntilAsync(async () => (await TunnelDevicesAsync(hosts.HostNamespace(1), lab)).Count == 0 && (await TunnelDevicesAsync(hosts.HostNamespace(2), lab)).Count == 0, "both tunnel devices gone");
            Assert.Equal("0", await db.ScalarAsync($"SELECT count(*) FROM cluster_wireguard_tunnels WHERE lab = '{lab}'"));
            await PingAsync($"{lab}-r3", "10.62.34.4");

            // Back, then destroyed: no device, no row left.
            Assert.True((await cluster.DeployAsync(Read(full), full, TimeSpan.FromSeconds(60))).AllUp);
            Assert.True(await cluster.DestroyAsync(lab, TimeSpan.FromSeconds(60)));
            Assert.Empty(await TunnelDevicesAsync(hosts.HostNamespace(1), lab));
            Assert.Empty(await TunnelDevicesAsync(hosts.HostNamespace(2), lab));
            Assert.Equal("0", await db.ScalarAsync($"SELECT count(*) FROM cluster_wireguard_tunnels WHERE lab = '{lab}'"));
        }
        finally
        {
            await agents.DisposeAsync();
            // wireguard-go keeps a namespace alive after it is deleted: the tunnels go first, whatever failed above.
            for (var i = 1; i <= 2; i++)
            {
                foreach (var device in await TunnelDevicesAsync(hosts.HostNamespace(i), hosts.Prefix))
                {
                    _ = await SimulatedHosts.TryRunAsync("ip", "-n", hosts.HostNamespace(i), "link", "del", device);
                }
            }
        }
    }

    private static string Definition(string lab, bool withWireGuard) =>
        $"name: {lab}\n"
        + "cross_host: { transport: wireguard }\n"
        + "nodes:\n"
        + "  r1: { kind: linux, host: h1 }\n"
        + "  r2: { kind: linux, host: h2 }\n"
        + "  r3: { kind: linux, host: h1 }\n"
        + "  r4: { kind: linux, host: h2 }\n"
        + "links:\n"
        + (withWireGuard ? "  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r2:eth2]\n" : "")
        + "  - endpoints: [r3:eth1, r4:eth1]\n    transport: vxlan\n";

    /// <summary>The lab's tunnel devices in a host's namespace: its name's first 6 characters and 9 hex digits.</summary>
    private static async Task<List<string>> TunnelDevicesAsync(string ns, string lab)
    {
        var (code, output) = await SimulatedHosts.TryRunAsync("ip", "-n", ns, "-j", "link", "show");
        if (code != 0)
        {
            return [];
        }

        using var doc = JsonDocument.Parse(output);
        return [.. doc.RootElement.EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!)
            .Where(n => n.Length == Math.Min(6, lab.Length) + 9 && n.StartsWith(lab[..Math.Min(6, lab.Length)], StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }

    private static async Task<string> WgAsync(string ns, params string[] args) =>
        (await SimulatedHosts.RunAsync("ip", ["netns", "exec", ns, "wg", .. args])).Trim();

    private static async Task<string> WgTryAsync(string ns, params string[] args) =>
        (await SimulatedHosts.TryRunAsync("ip", ["netns", "exec", ns, "wg", .. args])).Output;

    /// <summary>What tcpdump saw on the underlay's bridge while <paramref name="traffic"/> ran.</summary>
    private static async Task<string> CaptureAsync(string underlay, Func<Task> traffic)
    {
        var capture = SimulatedHosts.TryRunAsync("timeout", "-s", "INT", "4", "ip", "netns", "exec", underlay, "tcpdump", "-i", "br0", "-n", "-l");
        await Task.Delay(1000); // tcpdump listening
        await traffic();
        var (_, output) = await capture;
        return output;
    }
}
