using System.Text.Json;
using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary><c>aether lab verify NAME --deep</c> on a lab across hosts: a frame is sent across every link whose ends
/// are both on this machine; a cross-host link whose VXLAN was given another VNI by hand (its agent gone, so nothing
/// repairs it and the store still says up) fails, and says why.</summary>
public sealed partial class AgentCommandTests
{
    [Fact]
    public async Task Verify_deep_sends_a_frame_across_each_link_and_fails_a_link_whose_vni_was_changed_on_one_side()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var database = server.Url(await server.CreateDatabaseAsync());
        var (h1, h2) = (Box.Name("h1"), Box.Name("h2"));
        await HostsAsync(h1, h2);
        var lab = Box.Token;
        foreach (var node in new[] { "r1", "r2", "r3" })
        {
            Box.TrackNamespace($"{lab}-{node}");
        }

        var agent1 = StartAgent(database, "h1", "192.168.251.1", h1);
        StartAgent(database, "h2", "192.168.251.2", h2);
        var file = Path.Combine(_dir, "lab.yaml");
        await File.WriteAllTextAsync(file, $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r2:eth2, r3:eth1]\n");
        string[] db = ["--db", database, "--state-dir", Path.Combine(_dir, "ctl")];
        var deployed = await DeployWhenRegisteredAsync(file, db);
        Assert.True(deployed.Code == 0, deployed + "\n--- agents\n" + AgentOutput());

        // Whole: a frame crosses both links, the cross-host one through its tunnel.
        var deep = await Cli.RunAsync(["lab", "verify", lab, "--deep", .. db]);
        Assert.True(deep.Code == 0, deep.ToString());
        Assert.Contains("a frame crossed 2 of 2", deep.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"frame across r1:eth1-r2:eth1: \d+\.\d{3} ms", deep.Stdout);

        // h1's agent gone (nothing repairs r1:eth1 now); r1's VXLAN made again by hand with another VNI, as the agent
        // makes it: in h1's namespace (its tunnel there), then moved into r1's under the interface's name.
        Assert.Equal(0, Kill(agent1.Id, 9));
        await agent1.WaitForExitAsync();
        var vxlan = await Ip.RequireLinkAsync($"{lab}-r1", "eth1");
        var vni = vxlan.GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32();
        var mtu = vxlan.GetProperty("mtu").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var other = (vni + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Ip.RunAsync("-n", $"{lab}-r1", "link", "del", "eth1");
        await Ip.RunAsync("-n", h1, "link", "add", "aetvni0", "mtu", mtu, "type", "vxlan", "id", other, "local", "192.168.251.1", "remote", "192.168.251.2", "dstport", "4789");
        await Ip.RunAsync("-n", h1, "link", "set", "aetvni0", "netns", $"{lab}-r1");
        await Ip.RunAsync("-n", $"{lab}-r1", "link", "set", "aetvni0", "name", "eth1");
        await Ip.RunAsync("-n", $"{lab}-r1", "link", "set", "eth1", "up");

        // Without --deep the store's reports (h1's last ones, still fresh) say up; --deep sends a frame and fails the link.
        var shallow = await Cli.RunAsync(["lab", "verify", lab, .. db]);
        Assert.True(shallow.Code == 0, shallow.ToString());
        var failed = await Cli.RunAsync(["lab", "verify", lab, "--deep", "-o", "json", .. db]);
        Assert.True(failed.Code == 1, failed.ToString());
        using var json = JsonDocument.Parse(failed.Stdout);
        var links = json.RootElement.GetProperty("links").EnumerateArray().ToDictionary(l => l.GetProperty("id").GetString()!, l => l.GetProperty("frame"));
        Assert.False(links["r1:eth1-r2:eth1"].GetProperty("crossed").GetBoolean());
        Assert.True(links["r1:eth1-r2:eth1"].GetProperty("probed").GetBoolean());
        Assert.Contains("did not arrive", links["r1:eth1-r2:eth1"].GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.True(links["r2:eth2-r3:eth1"].GetProperty("crossed").GetBoolean());
        Assert.Equal(other, (await Ip.RequireLinkAsync($"{lab}-r1", "eth1")).GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
