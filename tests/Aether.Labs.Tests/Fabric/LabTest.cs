using System.Text.Json;
using Aether.Labs;

namespace Aether.Labs.Tests.Fabric;

/// <summary>A lab of the test's own (its name is the sandbox token, so every node namespace starts with it and the
/// sandbox deletes them), a state directory and the real store (SQLite in the state directory, unless a test class
/// opens another); helpers that check links with <c>ip -j</c>.</summary>
public abstract class LabTest : SandboxTest
{
    private protected ILabStore Store { get; private set; } = null!;

    protected string StateDirectory { get; private set; } = null!;

    protected override async Task SetUpAsync()
    {
        StateDirectory = Box.Own(new TempDirectory(Box.Token)).Path;
        Options = new LabOptions { StateDirectory = StateDirectory };
        Store = await OpenStoreAsync();
        await Store.MigrateAsync();
    }

    protected override async Task TearDownAsync()
    {
        if (Store is not null)
        {
            await Store.DisposeAsync();
        }
    }

    /// <summary>The store the test's controllers use: SQLite in the state directory.</summary>
    private protected virtual Task<ILabStore> OpenStoreAsync() =>
        Task.FromResult<ILabStore>(OperatingSystem.IsLinux() ? Aether.Labs.Store.LabStore.Open(null, StateDirectory) : throw new PlatformNotSupportedException());

    /// <summary>A lab of linux nodes <c>r1..rN</c> joined by <paramref name="links"/> (<c>(1, "eth1", 2, "eth1")</c>).</summary>
    protected LabSpec Lab(int nodes, params (int A, string IfA, int B, string IfB)[] links) => Lab(LabFabric.Veth, nodes, links);

    /// <summary>The same, on <paramref name="fabric"/>.</summary>
    protected LabSpec Lab(LabFabric fabric, int nodes, params (int A, string IfA, int B, string IfB)[] links)
    {
        var spec = new LabSpec(Box.Token)
        {
            Fabric = fabric,
            Nodes = [.. Enumerable.Range(1, nodes).Select(i => new LabNode("r" + i, "linux", $"{Box.Token}-r{i}"))],
            Links = [.. links.Select(l => new LabLink(new LabEndpoint("r" + l.A, l.IfA, l.IfA), new LabEndpoint("r" + l.B, l.IfB, l.IfB)))],
        };
        foreach (var node in spec.Nodes)
        {
            Box.TrackNamespace(node.Namespace);
        }

        return spec;
    }

    protected LabController Controller(LabSpec lab) => new(lab, Store, Options);

    /// <summary>The options the controllers get (an ovs test points them at its private Open vSwitch).</summary>
    protected LabOptions Options { get; set; } = null!;

    protected static string Ns(LabSpec lab, string node) => lab.Nodes.Single(n => n.Name == node).Namespace;

    /// <summary>Checks with <c>ip -j -d</c> that the link's two ends are veths in their nodes' namespaces, each the
    /// other's peer, both up with carrier (or both down).</summary>
    protected static async Task AssertWholeAsync(LabSpec lab, LabLink link, bool up = true)
    {
        var a = await Ip.RequireLinkAsync(Ns(lab, link.A.Node), link.A.Linux);
        var b = await Ip.RequireLinkAsync(Ns(lab, link.B.Node), link.B.Linux);
        Assert.Equal("veth", Ip.InfoKind(a));
        Assert.Equal("veth", Ip.InfoKind(b));
        Assert.Equal(Ip.Int(b, "ifindex"), Ip.Int(a, "link_index"));
        Assert.Equal(Ip.Int(a, "ifindex"), Ip.Int(b, "link_index"));
        Assert.Equal(up, Ip.Flags(a).Contains("UP"));
        Assert.Equal(up, Ip.Flags(b).Contains("UP"));
        if (up)
        {
            Assert.Contains("LOWER_UP", Ip.Flags(a));
            Assert.Contains("LOWER_UP", Ip.Flags(b));
        }

        // The peer is in the other node's namespace: the nsid a's namespace gives b's is the one a's peer is named by.
        var nsids = await Ip.JsonAsync(Ns(lab, link.A.Node), "netns", "list-id");
        var peerNsId = Ip.Int(a, "link_netnsid");
        Assert.NotNull(peerNsId);
        var named = nsids.Single(e => e.GetProperty("nsid").GetInt64() == peerNsId);
        Assert.Equal(Ns(lab, link.B.Node), named.TryGetProperty("name", out var n) ? n.GetString() : null);
    }

    /// <summary>Gives each link's ends the addresses 10.R.L.1/30 and .2/30 with <c>ip</c> and pings across every one.</summary>
    protected static async Task PingEveryLinkAsync(LabSpec lab, int second)
    {
        var tasks = lab.Links.Select(async (link, i) =>
        {
            var net = $"10.{second}.{i / 64}.{(i % 64) * 4}";
            var prefix = net[..(net.LastIndexOf('.') + 1)];
            var last = int.Parse(net[(net.LastIndexOf('.') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            await Ip.RunAsync("-n", Ns(lab, link.A.Node), "address", "replace", $"{prefix}{last + 1}/30", "dev", link.A.Linux);
            await Ip.RunAsync("-n", Ns(lab, link.B.Node), "address", "replace", $"{prefix}{last + 2}/30", "dev", link.B.Linux);
            // A few tries: on the ovs fabric ovs-vswitchd opens a new port some hundreds of milliseconds after OVSDB
            // has it.
            var (code, stdout, stderr) = (0, string.Empty, string.Empty);
            for (var attempt = 0; attempt < 5; attempt++)
            {
                (code, stdout, stderr) = await Ip.RunInAsync(Ns(lab, link.A.Node), "ping", "-c", "1", "-W", "2", $"{prefix}{last + 2}");
                if (code == 0)
                {
                    break;
                }
            }

            Assert.True(code == 0, $"ping over {link} failed: {stdout}{stderr}");
        });
        await Task.WhenAll(tasks);
    }

    protected static string Json(object value) => JsonSerializer.Serialize(value);
}
