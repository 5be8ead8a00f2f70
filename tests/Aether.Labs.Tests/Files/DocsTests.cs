namespace Aether.Labs.Tests.Files;

/// <summary>The examples in docs/labs.md are what the code reads and says.</summary>
public sealed class DocsTests
{
    private static readonly string[] Doc = File.ReadAllLines(Path.Combine(LabFile.RepoRoot(), "docs", "labs.md"));

    /// <summary>The fenced blocks of the section under <paramref name="heading"/>, in order.</summary>
    private static List<string> Blocks(string heading)
    {
        var blocks = new List<string>();
        var start = Array.IndexOf(Doc, heading);
        Assert.True(start >= 0, heading + " not found");
        List<string>? block = null;
        for (var i = start + 1; i < Doc.Length && !Doc[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            if (Doc[i].StartsWith("```", StringComparison.Ordinal))
            {
                if (block is null)
                {
                    block = [];
                }
                else
                {
                    blocks.Add(string.Join('\n', block) + "\n");
                    block = null;
                }
            }
            else
            {
                block?.Add(Doc[i]);
            }
        }

        return blocks;
    }

    [Fact]
    public void The_lab_file_example_reads()
    {
        var lab = LabFile.Valid(Blocks("## The lab file")[0]);
        Assert.Equal(LabFabric.Ovs, lab.Fabric);
        Assert.Equal(["r1:Ethernet1-r2:ge-0/0/0", "r1:Ethernet2-h1:eth1"], lab.Links.Select(l => l.ToString()));
    }

    [Fact]
    public void The_profile_file_example_reads_as_described()
    {
        var result = InterfaceProfiles.Parse(Blocks("## The user profile file")[0], "profiles.yaml");
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        var profiles = result.Profiles!;
        Assert.Equal(["linux", "arista_ceos", "juniper_vmx", "cisco_iosxr", "nokia_srlinux", "cisco_nxos", "sonic", "frr"], profiles.KnownKinds);
        Assert.Equal("Ethernet1/2", profiles.ToVendor("cisco_nxos", "eth2"));
        Assert.Equal("xe-0/0/3", profiles.ToVendor("juniper_vmx", "xe3"));
        Assert.Equal("ge-0/0/0", profiles.ToVendor("juniper_vmx", "eth1"));
        Assert.True(profiles.TryToLinux("sonic", "mgmt0", out var linux, out _));
        Assert.Equal("mgmt0", linux);
        Assert.True(profiles.TryToLinux("frr", "anything", out linux, out _));
        Assert.Equal("anything", linux);
    }

    [Fact]
    public void The_validation_example_gives_the_errors_shown()
    {
        var blocks = Blocks("## Validation");
        Assert.Equal(blocks[1].TrimEnd('\n').Split('\n'), LabFile.Errors(blocks[0]));
    }

    [Fact]
    public void The_across_hosts_example_reads_as_described()
    {
        var lab = LabFile.Valid(Blocks("## Across hosts").First(b => b.StartsWith("name:", StringComparison.Ordinal))); // after the commands
        Assert.Equal(["h1", "h2", "h3"], lab.Hosts.Select(h => h.Value));
        Assert.Equal(CrossHostMtu.Lower, lab.CrossHostMtu);
        Assert.Equal(["a1:eth2-b1:Ethernet1", "b1:Ethernet2-c1:ge-0/0/0"], lab.CrossHostLinks.Select(l => l.ToString()));
        var underlays = lab.Hosts.Select((h, i) => (h, System.Net.IPAddress.Parse("192.0.2." + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToDictionary(x => x.h, x => x.Item2);
        var vnis = lab.CrossHostLinks.Select((l, i) => (l.Id, (uint)(i + 1))).ToDictionary(x => x.Id, x => x.Item2);
        var h2 = LabTopology.CompileForHost(lab, HostId.Parse("h2"), underlays, vnis, null);
        Assert.Equal("lab-tri@h2", h2.Name);
        Assert.Equal([1450, 8950], h2.Links.Select(l => l.Mtu!.Value));
    }
}
