using System.Globalization;
using System.Text.Json;

namespace Aether.Cli.Tests;

/// <summary>The oracles of <see cref="AgentOvsProcessTests"/>: psql, <c>ovs-vsctl</c>, <c>ip -j -d</c>.</summary>
public sealed partial class AgentOvsProcessTests
{
    private sealed record VtepRow(long Id, string Host, string Remote, string Port, int Vni, int Links);

    private static string Show(IEnumerable<VtepRow> rows, bool links = true) =>
        string.Join(",", rows.Select(r => links ? r.ToString() : (r with { Links = 0 }).ToString()));

    private async Task<List<VtepRow>> VtepRowsAsync() =>
        [.. (await QueryAsync($"SELECT v.id, v.host_id, v.remote_host_id, v.port_name, v.vni, (SELECT count(*) FROM cluster_vtep_links l WHERE l.vtep_id = v.id) FROM cluster_vteps v WHERE v.lab = '{_lab}' ORDER BY v.host_id, v.remote_host_id"))
            .Select(r => new VtepRow(long.Parse(r[0]!, CultureInfo.InvariantCulture), r[1]!, r[2]!, r[3]!, int.Parse(r[4]!, CultureInfo.InvariantCulture), int.Parse(r[5]!, CultureInfo.InvariantCulture)))];

    /// <summary>
    /// The store's VTEP rows are <paramref name="expected"/> (<c>host&gt;remote:links</c>, one row per pair), and each
    /// host agrees: its VXLAN devices are exactly its rows' (VNI, remote underlay), its bridge's VTEP ports are exactly
    /// its rows' and trunk exactly the tags of the links attached to them (the same links as the reverse VTEP's), its
    /// other ports (<paramref name="ends"/> on host N) are the link ends with their link's tag; every tag of the lab is
    /// on exactly two end ports.
    /// </summary>
    /// <remarks>A deploy returns once every end is reported up; a VTEP of links just removed goes in the same pass
    /// or, when that pass was killed, in the restarted agent's: so the check is retried for up to 15 s, and the last
    /// failure is the one reported.</remarks>
    private async Task AssertVtepsAsync(string[] expected, int[] ends)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await AssertVtepsOnceAsync(expected, ends);
                return;
            }
            catch (Xunit.Sdk.XunitException) when (clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task AssertVtepsOnceAsync(string[] expected, int[] ends)
    {
        var rows = await VtepRowsAsync();
        Assert.Equal(expected, rows.Select(v => $"{v.Host}>{v.Remote}:{v.Links}"));
        Assert.All(rows, v => Assert.Equal(v.Vni, rows.Single(r => r.Host == v.Remote && r.Remote == v.Host).Vni));
        var tags = (await QueryAsync($"SELECT link_id, tag FROM cluster_vlan_tags WHERE lab = '{_lab}'")).ToDictionary(r => r[0]!, r => int.Parse(r[1]!, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var attached = (await QueryAsync($"SELECT v.id, l.link_id FROM cluster_vtep_links l JOIN cluster_vteps v ON v.id = l.vtep_id WHERE v.lab = '{_lab}'"))
            .ToLookup(r => long.Parse(r[0]!, CultureInfo.InvariantCulture), r => r[1]!);
        var endTags = new List<int>();
        for (var i = 1; i <= Hosts; i++)
        {
            var host = "h" + N(i);
            var mine = rows.Where(v => v.Host == host).ToList();

            // The kernel: one VXLAN per remote host, nothing else.
            var vxlans = await VxlansAsync(i);
            Assert.Equal(mine.Select(v => v.Port).Order(StringComparer.Ordinal), vxlans.Select(x => x.Name).Order(StringComparer.Ordinal));
            foreach (var v in mine)
            {
                var device = vxlans.Single(x => x.Name == v.Port);
                Assert.Equal((v.Vni, Underlay(int.Parse(v.Remote[1..], CultureInfo.InvariantCulture))), (device.Vni, device.Remote));
            }

            // The switch: the lab's bridge holds the VTEP ports and the ends' ports, nothing else.
            var bridge = await BridgeAsync(i);
            var onBridge = await PortsAsync(i);
            var ports = await PortTableAsync(i);
            Assert.Equal(mine.Select(v => v.Port).Order(StringComparer.Ordinal), onBridge.Where(p => mine.Any(v => v.Port == p)).Order(StringComparer.Ordinal));
            Assert.Equal(ends[i - 1], onBridge.Count(p => mine.All(v => v.Port != p)));
            foreach (var v in mine)
            {
                var (tag, trunks) = ports[v.Port];
                var links = attached[v.Id].Order(StringComparer.Ordinal).ToList();
                Assert.Equal(links, attached[rows.Single(r => r.Host == v.Remote && r.Remote == v.Host).Id].Order(StringComparer.Ordinal));
                Assert.Empty(tag);
                Assert.Equal(links.Select(l => tags[l]).Order(), trunks.Order());
                Assert.Equal(trunks.Order().ToList(), ParseSet(await Switch(i).VsctlAsync("get", "port", v.Port, "trunks")));
            }

            foreach (var port in onBridge.Where(p => mine.All(v => v.Port != p)))
            {
                var (tag, trunks) = ports[port];
                Assert.True(tag.Count == 1, $"{host}: end port {port} of bridge {bridge} has tag [{string.Join(',', tag)}]");
                Assert.Equal(tag, ParseSet(await Switch(i).VsctlAsync("get", "port", port, "tag")));
                Assert.Empty(trunks);
                endTags.Add(tag[0]);
            }
        }

        Assert.Equal(tags.Values.SelectMany(t => new[] { t, t }).Order(), endTags.Order());
    }

    /// <summary><c>aether lab tunnels NAME -o json</c> lists what psql has: each VTEP with its port, VNI,
    /// <c>link_count</c> and links.</summary>
    private async Task AssertTunnelsAgreeAsync()
    {
        var listed = await Cli.RunAsync(["lab", "tunnels", _lab, "-o", "json", .. _db]);
        Assert.True(listed.Code == 0, listed.ToString());
        using var doc = JsonDocument.Parse(listed.Stdout);
        var fromCli = doc.RootElement.GetProperty("tunnels").EnumerateArray()
            .Select(t =>
            {
                var links = t.GetProperty("links").EnumerateArray().Select(l => l.GetString()!).Order(StringComparer.Ordinal).ToList();
                Assert.Equal(links.Count, t.GetProperty("link_count").GetInt32());
                return $"{t.GetProperty("host").GetString()}>{t.GetProperty("remote").GetString()} {t.GetProperty("port").GetString()} {t.GetProperty("vni").GetInt32()} {t.GetProperty("link_count").GetInt32()} [{string.Join(' ', links)}]";
            })
            .Order(StringComparer.Ordinal);
        var fromDb = (await QueryAsync($"SELECT v.host_id || '>' || v.remote_host_id || ' ' || v.port_name || ' ' || v.vni || ' ' || count(l.link_id) || ' [' || coalesce(string_agg(l.link_id, ' ' ORDER BY l.link_id COLLATE \"C\"), '') || ']' FROM cluster_vteps v LEFT JOIN cluster_vtep_links l ON l.vtep_id = v.id WHERE v.lab = '{_lab}' GROUP BY v.id"))
            .Select(r => r[0]!).Order(StringComparer.Ordinal);
        Assert.Equal(fromDb, fromCli);
    }

    /// <summary>The one bridge on host <paramref name="i"/>'s switch (one lab here).</summary>
    private async Task<string> BridgeAsync(int i) =>
        Assert.Single((await Switch(i).VsctlAsync("list-br")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private async Task<string[]> PortsAsync(int i) =>
        (await Switch(i).VsctlAsync("list-ports", await BridgeAsync(i))).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary><c>ovs-vsctl list port</c> (JSON): every port's tag and trunks.</summary>
    private async Task<Dictionary<string, (List<int> Tag, List<int> Trunks)>> PortTableAsync(int i)
    {
        using var doc = JsonDocument.Parse(await Switch(i).VsctlAsync("--format=json", "--columns=name,tag,trunks", "list", "port"));
        return doc.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(r => r[0].GetString()!, r => (Atoms(r[1]), Atoms(r[2])), StringComparer.Ordinal);

        // An OVSDB set in JSON: one atom alone, or ["set", [atoms]].
        static List<int> Atoms(JsonElement e) => e.ValueKind == JsonValueKind.Number ? [e.GetInt32()] : [.. e[1].EnumerateArray().Select(a => a.GetInt32())];
    }

    /// <summary><c>ovs-vsctl get</c>'s set (<c>[]</c>, <c>[100, 101]</c>) or atom (<c>100</c>).</summary>
    private static List<int> ParseSet(string text) =>
        [.. text.Trim().Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => int.Parse(t, CultureInfo.InvariantCulture)).Order()];

    /// <summary>The VXLAN devices in host <paramref name="i"/>'s namespace (<c>ip -j -d link show type vxlan</c>).</summary>
    private async Task<List<(string Name, int Vni, string? Remote)>> VxlansAsync(int i) =>
        [.. (await Ip.JsonAsync(HostNs(i), "-d", "link", "show", "type", "vxlan"))
            .Select(l => (l.GetProperty("ifname").GetString()!, Ip.InfoData(l).GetProperty("id").GetInt32(), Ip.Str(Ip.InfoData(l), "remote")))];
}
