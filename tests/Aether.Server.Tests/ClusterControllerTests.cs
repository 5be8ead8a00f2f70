using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aether.Labs;
using Aether.Labs.Cluster;
using Aether.Labs.Store;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.TestInfrastructure;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// <c>aether serve --db postgres://…</c> as the controller of placed labs: real daemon processes on a private
/// PostgreSQL; the oracles are psql (<c>pg_locks</c>, the cluster's rows) and the API.
/// </summary>
public sealed class ClusterControllerTests : SandboxTest
{
    private readonly List<Process> _daemons = [];
    private readonly List<Task<string>> _stderr = [];
    private string _dir = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    protected override async Task TearDownAsync()
    {
        foreach (var daemon in _daemons.Where(d => !d.HasExited))
        {
            CliProcess.Terminate(daemon);
        }

        foreach (var daemon in _daemons)
        {
            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            daemon.Dispose();
        }
    }

    [Fact]
    public async Task Of_two_controllers_one_leads_and_the_other_takes_over_within_5_s_of_a_SIGKILL()
    {
        await using var pg = await PrivatePostgres.StartAsync();
        var name = await pg.CreateDatabaseAsync();
        var url = pg.Url(name);
        var (a, b) = (await StartAsync(url, "a"), await StartAsync(url, "b"));

        // Exactly one leads, and both name it.
        var (leader, follower) = await RolesAsync(a, b, TimeSpan.FromSeconds(15));
        using var followerView = await ClusterAsync(follower.Socket);
        using var leaderView = await ClusterAsync(leader.Socket);
        var leaderName = leaderView.RootElement.GetProperty("name").GetString();
        Assert.Equal("follower", followerView.RootElement.GetProperty("role").GetString());
        Assert.Equal(leaderName, followerView.RootElement.GetProperty("leader").GetProperty("name").GetString());
        Assert.False(followerView.RootElement.GetProperty("leader").GetProperty("self").GetBoolean());
        Assert.True(leaderView.RootElement.GetProperty("leader").GetProperty("self").GetBoolean());
        Assert.Equal([[leaderName]], await pg.QueryAsync(name, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"));

        // The leader sweeps: placements of a lab the lab store does not have go.
        await using (var store = ClusterStore.Open(url))
        {
            await store.RegisterHostAsync(new HostRegistration(HostId.Parse("h1"), IPAddress.Parse("192.0.2.1")));
            await store.SetPlacementsAsync("gonelab", new Dictionary<string, HostId>(StringComparer.Ordinal) { ["r1"] = HostId.Parse("h1") });
            _ = await store.AssignVnisAsync("gonelab", ["r1:eth1-r2:eth1"]);
        }

        var sweepDeadline = Stopwatch.StartNew();
        while ((await pg.QueryAsync(name, "SELECT (SELECT count(*) FROM cluster_placements) + (SELECT count(*) FROM cluster_vnis)"))[0][0] != "0")
        {
            Assert.True(sweepDeadline.Elapsed < TimeSpan.FromSeconds(12), "the leader did not sweep the gone lab's placements and VNIs within 12 s");
            await Task.Delay(100);
        }

        // SIGKILL: no goodbye; the database ends the session and its lock, the follower's next try wins.
        leader.Process.Kill();
        await leader.Process.WaitForExitAsync();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var view = await ClusterAsync(follower.Socket);
            if (view.RootElement.GetProperty("role").GetString() == "leader")
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the follower did not lead within 5 s of the leader's SIGKILL: {view.RootElement}");
            await Task.Delay(50);
        }

        var takeover = clock.Elapsed;
        Assert.True(takeover < TimeSpan.FromSeconds(5), $"takeover took {takeover.TotalSeconds:0.00} s");
        using var after = await ClusterAsync(follower.Socket);
        Assert.Equal(after.RootElement.GetProperty("name").GetString(), after.RootElement.GetProperty("leader").GetProperty("name").GetString());
        Assert.Equal([[after.RootElement.GetProperty("name").GetString()]], await pg.QueryAsync(name, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"));
        Console.WriteLine($"takeover after SIGKILL: {takeover.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Tunnels_are_listed_by_the_API_and_the_CLI_and_detach_link_refuses_bad_input_changing_nothing()
    {
        await using var pg = await PrivatePostgres.StartAsync();
        var name = await pg.CreateDatabaseAsync();
        var url = pg.Url(name);
        var lab = Box.Token;
        var definition = $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\n  r4: {{ kind: linux, host: h3 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r1:eth2, r3:eth1]\n  - endpoints: [r1:eth3, r4:eth1]\n  - endpoints: [r2:eth2, r3:eth2]\n";
        var spec = LabLoader.Parse(definition, "lab.yaml").Lab!;
        await using (var labs = LabStore.Open(url, _dir))
        {
            await labs.MigrateAsync();
            await labs.SaveLabAsync(spec, definition);
        }

        var (h1, h2, h3) = (HostId.Parse("h1"), HostId.Parse("h2"), HostId.Parse("h3"));
        await using var store = ClusterStore.Open(url);
        _ = await store.MigrateAsync();
        foreach (var (host, address) in new[] { (h1, "192.0.2.1"), (h2, "192.0.2.2"), (h3, "192.0.2.3") })
        {
            await store.RegisterHostAsync(new HostRegistration(host, IPAddress.Parse(address)));
        }

        var (l12a, l12b, l14) = ("r1:eth1-r2:eth1", "r1:eth2-r3:eth1", "r1:eth3-r4:eth1");
        foreach (var (host, remote, link) in new[] { (h1, h2, l12a), (h2, h1, l12a), (h1, h2, l12b), (h2, h1, l12b), (h1, h3, l14), (h3, h1, l14) })
        {
            _ = await store.AttachAsync(lab, host, remote, link);
        }

        var daemon = await StartAsync(url, "t");
        using var client = Unix.Client(daemon.Socket);
        await RolesAsync(daemon, null, TimeSpan.FromSeconds(15));

        // GET /v1/labs/{lab}/tunnels: four VTEPs, h1 -> h2 shared by two links.
        using (var tunnels = JsonDocument.Parse(await client.GetStringAsync($"/v1/labs/{lab}/tunnels")))
        {
            var list = tunnels.RootElement.GetProperty("tunnels").EnumerateArray().ToList();
            Assert.Equal(["h1>h2:2", "h1>h3:1", "h2>h1:2", "h3>h1:1"], list.Select(t => $"{t.GetProperty("host").GetString()}>{t.GetProperty("remote").GetString()}:{t.GetProperty("link_count").GetInt32()}"));
            var shared = list[0];
            Assert.Equal([l12a, l12b], shared.GetProperty("links").EnumerateArray().Select(l => l.GetString()));
            Assert.Equal(VtepNames.PortName(lab, h2), shared.GetProperty("port").GetString());
            Assert.Equal("192.0.2.2", shared.GetProperty("remote_ip").GetString());
            Assert.Equal(shared.GetProperty("vni").GetInt32(), list[2].GetProperty("vni").GetInt32()); // one VNI for the pair
        }

        using (var missing = await client.GetAsync("/v1/labs/aetnosuchlab/tunnels"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // The CLI, JSON and text.
        string[] db = ["--db", url, "--state-dir", Path.Combine(_dir, "cli")];
        var json = await CliProcess.RunAsync(["lab", "tunnels", lab, "-o", "json", .. db]);
        Assert.True(json.Code == 0, json.ToString());
        using (var printed = JsonDocument.Parse(json.Stdout))
        {
            var list = printed.RootElement.GetProperty("tunnels").EnumerateArray().ToList();
            Assert.Equal([2, 1, 2, 1], list.Select(t => t.GetProperty("link_count").GetInt32()));
            Assert.Equal([l12a, l12b], list[0].GetProperty("links").EnumerateArray().Select(l => l.GetString()));
        }

        var text = await CliProcess.RunAsync(["lab", "tunnels", lab, .. db]);
        Assert.True(text.Code == 0, text.ToString());
        Assert.Contains($"h1 -> h2: {VtepNames.PortName(lab, h2)}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"2 links: {l12a}, {l12b}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"tunnels {lab}: 4 VTEPs, 6 link attachments", text.Stdout, StringComparison.Ordinal);

        // Bad input: 400 naming the field; not one row changes.
        const string Rows = "SELECT v.host_id || '>' || v.remote_host_id || ':' || l.link_id FROM cluster_vteps v JOIN cluster_vtep_links l ON l.vtep_id = v.id ORDER BY 1";
        var before = await pg.QueryAsync(name, Rows);
        Assert.Equal(6, before.Count);
        foreach (var (body, field) in new[]
        {
            ($"{{\"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote\": \"h2\"}}", "lab"),
            ($"{{\"lab\": \"Bad Lab\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote\": \"h2\"}}", "lab"),
            ($"{{\"lab\": \"{lab}\", \"host\": \"h1\", \"remote\": \"h2\"}}", "link_id"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"remote\": \"h2\"}}", "host"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"H1\", \"remote\": \"h2\"}}", "host"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\"}}", "remote"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote\": \"h2\", \"remote_ip\": \"192.0.2.2\"}}", "remote"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote\": \"h1\"}}", "remote"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote_ip\": \"not-an-ip\"}}", "remote_ip"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote\": \"h2\", \"force\": true}}", "force"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": 7, \"host\": \"h1\", \"remote\": \"h2\"}}", "link_id"),
        })
        {
            using var refused = await client.PostAsync("/v1/overlay/detach-link", new StringContent(body, Encoding.UTF8, "application/json"));
            var problem = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body}: {refused.StatusCode} {problem}");
            using var doc = JsonDocument.Parse(problem);
            Assert.Contains(doc.RootElement.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field);
            Assert.Equal(before, await pg.QueryAsync(name, Rows));
        }

        using (var notJson = await client.PostAsync("/v1/overlay/detach-link", new StringContent("lab: x", Encoding.UTF8, "application/yaml")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        }

        // Unknown lab, link, attachment or remote address: 404, nothing changes.
        foreach (var (body, says) in new[]
        {
            ("{\"lab\": \"aetnosuchlab\", \"link_id\": \"r1:eth1-r2:eth1\", \"host\": \"h1\", \"remote\": \"h2\"}", "aetnosuchlab"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"r8:eth1-r9:eth1\", \"host\": \"h1\", \"remote\": \"h2\"}}", "has no link 'r8:eth1-r9:eth1'"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"r2:eth2-r3:eth2\", \"host\": \"h2\", \"remote\": \"h1\"}}", "is not attached"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l14}\", \"host\": \"h1\", \"remote\": \"h2\"}}", "is not attached"),
            ($"{{\"lab\": \"{lab}\", \"link_id\": \"{l12a}\", \"host\": \"h1\", \"remote_ip\": \"192.0.2.99\"}}", "no registered host has underlay 192.0.2.99"),
        })
        {
            using var missing = await client.PostAsync("/v1/overlay/detach-link", new StringContent(body, Encoding.UTF8, "application/json"));
            var problem = await missing.Content.ReadAsStringAsync();
            Assert.True(missing.StatusCode == HttpStatusCode.NotFound, $"{body}: {missing.StatusCode} {problem}");
            Assert.Contains(says, problem, StringComparison.Ordinal);
            Assert.Equal(before, await pg.QueryAsync(name, Rows));
        }

        // Good: the first of h1 -> h2's links leaves it (it stays), the second (named by address) takes it away.
        using (var first = await client.PostAsJsonAsync("/v1/overlay/detach-link", new Dictionary<string, string> { ["lab"] = lab, ["link_id"] = l12a, ["host"] = "h1", ["remote"] = "h2" }))
        {
            using var doc = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
            Assert.True(first.StatusCode == HttpStatusCode.OK, doc.RootElement.ToString());
            Assert.False(doc.RootElement.GetProperty("vtep_deleted").GetBoolean());
            Assert.Equal(1, doc.RootElement.GetProperty("link_count").GetInt32());
        }

        using (var last = await client.PostAsJsonAsync("/v1/overlay/detach-link", new Dictionary<string, string> { ["lab"] = lab, ["link_id"] = l12b, ["host"] = "h1", ["remote_ip"] = "192.0.2.2" }))
        {
            using var doc = JsonDocument.Parse(await last.Content.ReadAsStringAsync());
            Assert.True(last.StatusCode == HttpStatusCode.OK, doc.RootElement.ToString());
            Assert.True(doc.RootElement.GetProperty("vtep_deleted").GetBoolean());
            Assert.Equal(0, doc.RootElement.GetProperty("link_count").GetInt32());
            Assert.Equal("h2", doc.RootElement.GetProperty("remote").GetString());
        }

        Assert.Equal([["h1>h3:" + l14], ["h2>h1:" + l12a], ["h2>h1:" + l12b], ["h3>h1:" + l14]], await pg.QueryAsync(name, Rows));
        Assert.Equal([["0"]], await pg.QueryAsync(name, "SELECT count(*) FROM cluster_vteps WHERE host_id = 'h1' AND remote_host_id = 'h2'"));
        using (var again = await client.PostAsJsonAsync("/v1/overlay/detach-link", new Dictionary<string, string> { ["lab"] = lab, ["link_id"] = l12b, ["host"] = "h1", ["remote"] = "h2" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        // A placed lab naming a host no agent registered: 400 on the definition, nothing written.
        var unplaced = $"name: {lab}x\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h9 }}\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n";
        using (var refused = await client.PostAsync("/v1/labs", new StringContent(unplaced, Encoding.UTF8, "application/yaml")))
        {
            var problem = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, problem);
            Assert.Contains("h9", problem, StringComparison.Ordinal);
            Assert.Contains("\"definition\"", problem, StringComparison.Ordinal);
        }

        Assert.Equal([["0", "0"]], await pg.QueryAsync(name, $"SELECT (SELECT count(*) FROM labs WHERE name = '{lab}x'), (SELECT count(*) FROM cluster_placements WHERE lab = '{lab}x')"));

        // GET /v1/labs/{lab} and /links of the placed lab: from the cluster's reports (none yet: every link says so).
        using (var got = JsonDocument.Parse(await client.GetStringAsync($"/v1/labs/{lab}/links")))
        {
            Assert.True(got.RootElement.GetProperty("placed").GetBoolean());
            Assert.Equal(4, got.RootElement.GetProperty("links").GetArrayLength());
            Assert.All(got.RootElement.GetProperty("links").EnumerateArray(), l => Assert.Equal("error", l.GetProperty("state").GetString()));
        }

        using (var got = JsonDocument.Parse(await client.GetStringAsync($"/v1/labs/{lab}")))
        {
            Assert.Equal("h3", got.RootElement.GetProperty("nodes").GetProperty("r4").GetString());
        }
    }

    private async Task<Daemon> StartAsync(string url, string tag)
    {
        var socket = Path.Combine(_dir, tag + ".sock");
        var process = CliProcess.Start("serve", "--socket", socket, "--db", url, "--state-dir", Path.Combine(_dir, "state-" + tag), "--wireguard-prefix", Box.Name("w" + tag));
        _daemons.Add(process);
        var stderr = process.StandardError.ReadToEndAsync();
        _stderr.Add(stderr);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            Assert.False(process.HasExited, "the daemon exited: " + (process.HasExited ? await stderr : ""));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no socket in 60 s");
            await Task.Delay(50);
        }

        return new Daemon(process, socket);
    }

    private static async Task<JsonDocument> ClusterAsync(string socket)
    {
        using var client = Unix.Client(socket);
        using var response = await client.GetAsync("/v1/cluster");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Waits until one of the daemons leads (and the other follows), returns them in that order.</summary>
    private static async Task<(Daemon Leader, Daemon Follower)> RolesAsync(Daemon a, Daemon? b, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var va = await ClusterAsync(a.Socket);
            var ra = va.RootElement.GetProperty("role").GetString();
            if (b is null)
            {
                if (ra == "leader")
                {
                    return (a, a);
                }
            }
            else
            {
                using var vb = await ClusterAsync(b.Socket);
                var rb = vb.RootElement.GetProperty("role").GetString();
                Assert.False(ra == "leader" && rb == "leader", "two leaders");
                if (ra == "leader" || rb == "leader")
                {
                    return ra == "leader" ? (a, b) : (b, a);
                }
            }

            Assert.True(clock.Elapsed < within, $"no leader within {within.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }

    private sealed record Daemon(Process Process, string Socket);
}
