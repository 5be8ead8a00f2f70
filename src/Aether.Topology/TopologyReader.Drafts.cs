using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Topology;

/// <summary>Drafts: what was read, field by field, before the whole file is known to be valid.</summary>
internal sealed partial class TopologyReader
{
    /// <summary>The prefixes of <paramref name="addresses"/>, in order.</summary>
    private static IPPrefix[] PrefixesOf(List<(IPPrefix Prefix, string Path)> addresses)
    {
        if (addresses.Count == 0)
        {
            return [];
        }

        var prefixes = new IPPrefix[addresses.Count];
        for (var i = 0; i < prefixes.Length; i++)
        {
            prefixes[i] = addresses[i].Prefix;
        }

        return prefixes;
    }

    private sealed class NamespaceDraft(string path)
    {
        public string Path => path;

        public string? Name { get; set; }

        public List<KeyValuePair<string, string>> Sysctls { get; } = [];

        public List<TopologyMasquerade> Nat { get; } = [];

        public List<string> NatPaths { get; } = [];
    }

    private sealed class LinkDraft(string path)
    {
        public string Path => path;

        public string? Name { get; set; }

        public TopologyLinkKind? Kind { get; set; }

        public string? Namespace { get; set; }

        public bool Up { get; set; } = true;

        public int? Mtu { get; set; }

        public string? Master { get; set; }

        public List<(IPPrefix Prefix, string Path)> Addresses { get; set; } = [];

        public PeerDraft? Peer { get; set; }

        public uint? Vni { get; set; }

        public IPAddress? Remote { get; set; }

        public IPAddress? Local { get; set; }

        public ushort? Port { get; set; }

        public VxlanUnderlay? Underlay { get; set; }

        /// <summary>The namespace whose network carries a VXLAN's tunnel, with the host as ""; for a VXLAN without
        /// underlay, its own namespace.</summary>
        public string TunnelNamespace => Underlay is { } underlay ? underlay.Namespace ?? "" : Namespace ?? "";

        public string? Parent { get; set; }

        public MacvlanMode? Mode { get; set; }

        public WireGuardDraft? WireGuard { get; set; }

        public TopologyLink Build() => new(Name!, Kind!.Value)
        {
            Namespace = Namespace,
            Up = Up,
            Mtu = Mtu,
            Master = Master,
            Addresses = PrefixesOf(Addresses),
            Peer = Peer?.Build(),
            Vni = Vni,
            Remote = Remote,
            Local = Local,
            Port = Port,
            Underlay = Underlay,
            Parent = Parent,
            Mode = Mode,
            WireGuard = WireGuard?.Build(),
        };
    }

    private sealed class PeerDraft(string path)
    {
        public string Path => path;

        public string? Name { get; set; }

        public string? Namespace { get; set; }

        public List<(IPPrefix Prefix, string Path)> Addresses { get; set; } = [];

        public TopologyPeer Build() => new(Name!) { Namespace = Namespace, Addresses = PrefixesOf(Addresses) };
    }

    private sealed class RouteDraft(string path)
    {
        public string Path => path;

        public string? Namespace { get; set; }

        public bool IsDefault { get; set; }

        public IPPrefix? To { get; set; }

        public IPAddress? Via { get; set; }

        public string? Dev { get; set; }

        public uint? Metric { get; set; }

        public uint? Table { get; set; }

        public bool OnLink { get; set; }

        public TopologyRoute Build() => new(Namespace, To)
        {
            Via = Via,
            Dev = Dev,
            Metric = Metric,
            Table = Table,
            OnLink = OnLink,
        };
    }
}
