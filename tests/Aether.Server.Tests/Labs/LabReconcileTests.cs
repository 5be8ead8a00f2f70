using System.Net;
using System.Text.Json;

namespace Aether.Server.Tests.Labs;

/// <summary>The reconciliation and the interface mappings through the daemon, with no lab runtime (so that what a test
/// breaks by hand stays broken until the request repairs it): the counts, the mappings and a node's interfaces under
/// both names, and the mappings rewritten after they were lost.</summary>
public sealed class LabReconcileTests : LabApiTest
{
    protected override bool Runtimes => false;

    [Fact]
    public async Task Reconcile_repairs_an_end_deleted_by_hand_and_counts_it()
    {
        await DeployAsync(Yaml());
        var lab = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK);
        Assert.Equal("off", lab.GetProperty("runtime").GetProperty("state").GetString());

        await Ip.RunAsync("-n", Ns("r1"), "link", "del", "eth1");
        Assert.Null(await Ip.LinkAsync(Ns("r2"), "eth1")); // the peer went with it

        var reconciled = await ExpectAsync(await Client.PostAsync($"/v1/labs/{Lab}/links/reconcile", null), HttpStatusCode.OK);
        Assert.Equal("reconcile", reconciled.GetProperty("command").GetString());
        var counts = reconciled.GetProperty("counts");
        Assert.Equal((2, 1, 1, 0), (counts.GetProperty("checked").GetInt32(), counts.GetProperty("valid").GetInt32(), counts.GetProperty("repaired").GetInt32(), counts.GetProperty("errors").GetInt32()));
        Assert.All(States(reconciled).Values, s => Assert.Equal("up", s));
        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1");
        Assert.True(await IsUpAsync(Ns("r2"), "eth1"));

        var again = await ExpectAsync(await Client.PostAsync($"/v1/labs/{Lab}/links/reconcile", null), HttpStatusCode.OK);
        Assert.Equal(2, again.GetProperty("counts").GetProperty("valid").GetInt32());
        Assert.Equal(0, again.GetProperty("counts").GetProperty("repaired").GetInt32());
    }

    [Fact]
    public async Task Mappings_and_a_nodes_interfaces_have_both_names_and_a_sync_rewrites_lost_mappings()
    {
        await DeployAsync(Yaml());

        var mappings = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/interface-mappings"), HttpStatusCode.OK);
        string[] want = ["h1 eth1 eth1 linux", "r1 eth1 Ethernet1 arista_ceos", "r1 eth2 Ethernet2 arista_ceos", "r2 eth1 ge-0/0/0 juniper_vmx"];
        Assert.Equal(want, Rows(mappings));
        Assert.All(mappings.EnumerateArray(), m => Assert.Equal(JsonValueKind.Null, m.GetProperty("ovsPort").ValueKind));

        var r2 = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/nodes/r2/interfaces"), HttpStatusCode.OK);
        Assert.Equal("juniper_vmx", r2.GetProperty("kind").GetString());
        Assert.Equal(Ns("r2"), r2.GetProperty("namespace").GetString());
        var ge = Assert.Single(r2.GetProperty("interfaces").EnumerateArray());
        Assert.Equal("ge-0/0/0", ge.GetProperty("vendor").GetString());
        Assert.Equal("eth1", ge.GetProperty("linux").GetString());
        Assert.Equal("r1:eth1-r2:eth1", ge.GetProperty("link").GetString());
        Assert.Equal("r1:Ethernet1", ge.GetProperty("peer").GetString());
        Assert.Equal("up", ge.GetProperty("state").GetString());
        var kernel = ge.GetProperty("kernel");
        var oracle = await Ip.RequireLinkAsync(Ns("r2"), "eth1");
        Assert.Equal(Ip.Int(oracle, "ifindex"), kernel.GetProperty("index").GetInt32());
        Assert.Equal(Ip.Str(oracle, "address"), kernel.GetProperty("macAddress").GetString());
        Assert.Equal("veth", kernel.GetProperty("kind").GetString());
        Assert.True(kernel.GetProperty("up").GetBoolean());
        Assert.True(kernel.GetProperty("carrier").GetBoolean());
        Assert.True(kernel.GetProperty("ours").GetBoolean());

        var r1 = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/nodes/r1/interfaces"), HttpStatusCode.OK);
        Assert.Equal(["Ethernet1 eth1", "Ethernet2 eth2"], r1.GetProperty("interfaces").EnumerateArray().Select(i => $"{i.GetProperty("vendor")} {i.GetProperty("linux")}"));
        Assert.Equal(9000, r1.GetProperty("interfaces")[1].GetProperty("kernel").GetProperty("mtu").GetInt32());
        var noNode = await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}/nodes/r9/interfaces"), 404);
        Assert.Contains("r1, r2, h1", noNode.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // With r2's end gone (no runtime repairs it), the kernel shows nothing under eth1.
        await Ip.RunAsync("-n", Ns("r2"), "link", "del", "eth1");
        r2 = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/nodes/r2/interfaces"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, r2.GetProperty("interfaces")[0].GetProperty("kernel").ValueKind);

        // The mappings lost from the store (written by another client of it) are written again by a sync.
        await using (var store = OpenStore())
        {
            await store.SetMappingsAsync(Lab, []);
        }

        Assert.Equal(0, (await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/interface-mappings"), HttpStatusCode.OK)).GetArrayLength());
        var sync = await ExpectAsync(await Client.PostAsync($"/v1/labs/{Lab}/interface-mappings/sync", null), HttpStatusCode.OK);
        Assert.Equal((4, 0, 0), (sync.GetProperty("added").GetInt32(), sync.GetProperty("removed").GetInt32(), sync.GetProperty("updated").GetInt32()));
        Assert.Equal(want, Rows(sync.GetProperty("mappings")));
        var seen = sync.GetProperty("interfaces").EnumerateArray().ToDictionary(i => $"{i.GetProperty("node")}:{i.GetProperty("linux")}", i => i.GetProperty("present").GetBoolean());
        Assert.False(seen["r2:eth1"]);
        Assert.True(seen["r1:eth2"]);
        Assert.Equal(want, Rows(await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}/interface-mappings"), HttpStatusCode.OK)));

        var unchanged = await ExpectAsync(await Client.PostAsync($"/v1/labs/{Lab}/interface-mappings/sync", null), HttpStatusCode.OK);
        Assert.Equal(0, unchanged.GetProperty("added").GetInt32());
    }

    private static string[] Rows(JsonElement mappings) =>
        [.. mappings.EnumerateArray().Select(m => $"{m.GetProperty("node")} {m.GetProperty("linux")} {m.GetProperty("vendor")} {m.GetProperty("deviceType")}")];
}
