using System.Security.Cryptography;
using System.Text;
using Aether.Netlink.Rtnl;
using Aether.Ovsdb;
using Aether.Reconcile.Sources;

namespace Aether.Labs;

/// <summary>
/// The <c>ovs</c> fabric (reference 002's design): every node interface is a veth whose inner end is in the node under
/// its Linux name and whose outer end is a port of the lab's Open vSwitch bridge (in the namespace ovs-vswitchd runs
/// in: the host unless told otherwise); a link is a VLAN tag that both of its ports carry, unique within the lab. The
/// bridge and its ports are kept by <see cref="OvsBridgeSource"/>, which speaks OVSDB itself; names are derived from the
/// lab so that they fit the kernel's 15 bytes whatever the lab's and nodes' names are.
/// </summary>
public static class OvsFabric
{
    /// <summary>The first VLAN tag given to a link.</summary>
    public const int FirstTag = 100;

    /// <summary>The last usable VLAN tag.</summary>
    public const int LastTag = 4094;

    /// <summary>The lab's bridge: <c>ab</c> and 12 hex digits of a hash of the lab's name.</summary>
    public static string BridgeOf(string lab) => "ab" + Hash(lab, 12);

    /// <summary>The outer end (the bridge port) of a node interface: <c>ap</c> and 13 hex digits of a hash.</summary>
    public static string PortOf(string lab, LabEndpoint end)
    {
        ArgumentNullException.ThrowIfNull(end);
        return "ap" + Hash(lab + "/" + end.Node + "/" + end.Linux, 13);
    }

    /// <summary>The owner written into the bridge's and ports' <c>external_ids</c>.</summary>
    public static string OwnerOf(string lab) => LabTopology.NameOf(lab);

    /// <summary>The tag of every link: the one stored, else the smallest free one from <see cref="FirstTag"/>.</summary>
    /// <exception cref="InvalidOperationException">More links than tags.</exception>
    public static IReadOnlyDictionary<LinkId, int> Tags(LabSpec lab, IReadOnlyDictionary<LinkId, LinkState> stored)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(stored);
        var tags = new Dictionary<LinkId, int>();
        var used = new HashSet<int>();
        foreach (var link in lab.Links)
        {
            if (stored.TryGetValue(link.Id, out var state) && state.Vlan is int tag and >= FirstTag and <= LastTag && used.Add(tag))
            {
                tags[link.Id] = tag;
            }
        }

        var next = FirstTag;
        foreach (var link in lab.Links.Where(l => !tags.ContainsKey(l.Id)))
        {
            while (used.Contains(next))
            {
                next++;
            }

            if (next > LastTag)
            {
                throw new InvalidOperationException($"lab {lab.Name} has more links than VLAN tags ({LastTag - FirstTag + 1})");
            }

            tags[link.Id] = next;
            used.Add(next);
        }

        return tags;
    }

    /// <summary>The bridge the lab wants: a port per end of every link not in <paramref name="left"/>, tagged with its
    /// link's tag.</summary>
    public static DesiredOvsBridge Desired(LabSpec lab, IReadOnlyDictionary<LinkId, int> tags, IReadOnlySet<LinkId> left)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(left);
        var ports = lab.Links.Where(l => !left.Contains(l.Id))
            .SelectMany(l => new[] { new DesiredOvsPort(PortOf(lab.Name, l.A), tags[l.Id]) { Reclaim = true }, new DesiredOvsPort(PortOf(lab.Name, l.B), tags[l.Id]) { Reclaim = true } })
            .ToList();
        return new DesiredOvsBridge(BridgeOf(lab.Name), ports);
    }

    /// <summary>Why the switch side of a link is not whole, or null: both ports are ports of the lab's bridge with the
    /// link's tag, and no other port of the bridge carries it.</summary>
    internal static string? Problem(LabSpec lab, LabLink link, int tag, OvsSwitchState state)
    {
        var bridgeName = BridgeOf(lab.Name);
        if (state.FindBridge(bridgeName) is not { } bridge)
        {
            return $"the lab's bridge {bridgeName} is missing";
        }

        foreach (var end in new[] { link.A, link.B })
        {
            var port = PortOf(lab.Name, end);
            if (state.FindPort(port) is not { } at)
            {
                return $"{end}'s port {port} is not on any bridge";
            }

            if (!string.Equals(at.Bridge.Name, bridgeName, StringComparison.Ordinal))
            {
                return $"{end}'s port {port} is on bridge {at.Bridge.Name}, not the lab's {bridgeName}";
            }

            if (at.Port.Tag != tag)
            {
                return $"{end}'s port {port} has VLAN tag {at.Port.Tag?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, want {tag}";
            }
        }

        var mine = new HashSet<string>([PortOf(lab.Name, link.A), PortOf(lab.Name, link.B)], StringComparer.Ordinal);
        var other = bridge.Ports.FirstOrDefault(p => p.Tag == tag && !mine.Contains(p.Name));
        return other is null ? null : $"port {other.Name} also carries VLAN tag {tag}";
    }

    /// <summary>Why the kernel side of one end is not whole, or null: the inner end's peer is the outer end, in the
    /// switch's namespace, and the outer end is up.</summary>
    internal static async Task<string?> KernelProblemAsync(LabSpec lab, LabEndpoint end, string nodeNamespace, string switchNamespace, LabObservation observed, CancellationToken cancellationToken)
    {
        var inner = observed.Find(nodeNamespace, end.Linux)!;
        var portName = PortOf(lab.Name, end);
        if (observed.Find(switchNamespace, portName) is not { } outer)
        {
            return $"{end}'s outer end {portName} is missing";
        }

        var id = await observed.NsIdAsync(nodeNamespace, switchNamespace, cancellationToken).ConfigureAwait(false);
        if (inner.LinkIndex != outer.Index || id == NsId.NotAssigned || inner.LinkNetNsId != id)
        {
            return $"{end}'s peer is not its port {portName}";
        }

        return outer.IsUp ? null : $"{end}'s port {portName} is down";
    }

    /// <summary>Reads the switch.</summary>
    internal static async Task<OvsSwitchState> ReadAsync(OvsdbEndpoint endpoint, CancellationToken cancellationToken)
    {
        await using var client = await OvsdbClient.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return await new OpenVSwitchDatabase(client).ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Hash(string text, int digits) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..digits];
}
