using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Topology;

/// <summary>Links: each one's kind, peer and kind-specific fields.</summary>
internal sealed partial class TopologyReader
{
    /// <summary>Keys that belong to some kinds of link only.</summary>
    private static readonly (string Key, TopologyLinkKind[] Kinds)[] KindOnly =
    [
        ("peer", [TopologyLinkKind.Veth]),
        ("vni", [TopologyLinkKind.Vxlan]),
        ("remote", [TopologyLinkKind.Vxlan]),
        ("local", [TopologyLinkKind.Vxlan]),
        ("port", [TopologyLinkKind.Vxlan]),
        ("underlay", [TopologyLinkKind.Vxlan]),
        ("parent", [TopologyLinkKind.Macvlan, TopologyLinkKind.Vxlan]),
        ("mode", [TopologyLinkKind.Macvlan]),
    ];

    /// <summary>The kinds of link, as the messages list them.</summary>
    private static readonly string KindsText = $"one of {string.Join(", ", TopologyLoader.LinkKinds)}";

    private void ReadLink(DefinitionNode node, string path)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.LinkKeys);
        if (fields is null)
        {
            return;
        }

        var draft = new LinkDraft(path);
        if (fields.Require("name", "the interface name"))
        {
            draft.Name = InterfaceNameField(fields, "name");
        }

        if (fields.Require("kind", KindsText))
        {
            draft.Kind = Kind(fields);
        }

        draft.Namespace = NamespaceName(fields, "namespace");
        draft.Up = fields.Bool("up") ?? true;
        draft.Mtu = (int?)fields.Integer("mtu", 68, 65535);
        draft.Master = InterfaceNameField(fields, "master");
        draft.Addresses = Prefixes(fields, "addresses");

        // Keys that belong to some kinds only: reported on the others, and then not read.
        HashSet<string>? skip = null; // made at the first key reported
        foreach (var (key, kinds) in KindOnly)
        {
            if (draft.Kind is { } kind && Array.IndexOf(kinds, kind) < 0 && fields.KeyNode(key) is { } keyNode)
            {
                var owners = string.Join(" and ", kinds.Select(k => KindName(k)));
                _errors.Add(keyNode, fields.PathOf(key), $"only for {owners} links, and this one is a {KindName(kind)}");
                (skip ??= new HashSet<string>(StringComparer.Ordinal)).Add(key);
            }
        }

        if (!Skips(skip, "peer"))
        {
            var peer = fields.Value("peer");
            if (peer is not null)
            {
                draft.Peer = ReadPeer(peer, fields.PathOf("peer"));
            }
            else if (draft.Kind == TopologyLinkKind.Veth)
            {
                fields.Require("peer", "a veth's other end: { name: ..., namespace: ... }");
            }
        }

        if (!Skips(skip, "vni"))
        {
            draft.Vni = (uint?)fields.Integer("vni", 0, 16_777_215);
            if (draft.Kind == TopologyLinkKind.Vxlan)
            {
                fields.Require("vni", "the VXLAN network identifier, 0..16777215");
            }
        }

        if (!Skips(skip, "remote"))
        {
            draft.Remote = Address(fields, "remote");
        }

        if (!Skips(skip, "local"))
        {
            draft.Local = Address(fields, "local");
        }

        if (draft.Remote is { } remote && draft.Local is { } local && remote.AddressFamily != local.AddressFamily)
        {
            _errors.Add(fields.PathOf("local"), $"{local} is {Family(local)} but remote {remote} is {Family(remote)}");
        }

        if (!Skips(skip, "port"))
        {
            draft.Port = (ushort?)fields.Integer("port", 1, 65535);
        }

        if (!Skips(skip, "underlay"))
        {
            draft.Underlay = Underlay(fields);
        }

        if (!Skips(skip, "parent"))
        {
            draft.Parent = InterfaceNameField(fields, "parent");
            if (draft.Kind == TopologyLinkKind.Macvlan)
            {
                fields.Require("parent", "the device the macvlan sits on");
            }
        }

        if (!Skips(skip, "mode"))
        {
            draft.Mode = Mode(fields);
        }

        ReadWireGuard(fields, draft);

        _links.Add(draft);
    }

    /// <summary>Whether <paramref name="key"/> was reported as not for this kind of link (and is not read).</summary>
    private static bool Skips(HashSet<string>? skip, string key) => skip?.Contains(key) == true;

    private PeerDraft? ReadPeer(DefinitionNode node, string path)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.PeerKeys);
        if (fields is null)
        {
            return null;
        }

        var draft = new PeerDraft(path);
        if (fields.Require("name", "the interface name of the other end"))
        {
            draft.Name = InterfaceNameField(fields, "name");
        }

        draft.Namespace = NamespaceName(fields, "namespace");
        draft.Addresses = Prefixes(fields, "addresses");
        return draft;
    }

    /// <summary>A VXLAN's <c>underlay</c>: <c>host</c> for the host namespace, or a namespace's name.</summary>
    private VxlanUnderlay? Underlay(Fields fields)
    {
        var text = fields.String("underlay");
        if (text is null)
        {
            return null;
        }

        if (string.Equals(text, TopologyLoader.HostUnderlay, StringComparison.Ordinal))
        {
            return new VxlanUnderlay(null);
        }

        if (!NamespaceNameRule.IsValid(text, out var why))
        {
            _errors.Add(fields.PathOf("underlay"), $"{why}; or '{TopologyLoader.HostUnderlay}' for the host namespace");
            return null;
        }

        return new VxlanUnderlay(text);
    }

    private TopologyLinkKind? Kind(Fields fields)
    {
        var text = fields.String("kind");
        var index = text is null ? -1 : YamlProblems.IndexOf(TopologyLoader.LinkKinds, text);
        if (text is not null && index < 0)
        {
            _errors.Add(fields.PathOf("kind"), $"unknown kind '{text}'; one of {string.Join(", ", TopologyLoader.LinkKinds)}");
        }

        return index < 0 ? null : (TopologyLinkKind)index;
    }

    private MacvlanMode? Mode(Fields fields)
    {
        var text = fields.String("mode");
        if (text is null)
        {
            return null;
        }

        MacvlanMode? mode = text switch
        {
            "private" => MacvlanMode.Private,
            "vepa" => MacvlanMode.Vepa,
            "bridge" => MacvlanMode.Bridge,
            "passthru" => MacvlanMode.Passthru,
            "source" => MacvlanMode.Source,
            _ => null,
        };
        if (mode is null)
        {
            _errors.Add(fields.PathOf("mode"), $"unknown macvlan mode '{text}'; one of {string.Join(", ", TopologyLoader.MacvlanModes)}");
        }

        return mode;
    }

    private static string KindName(TopologyLinkKind kind) => TopologyLoader.LinkKinds[(int)kind];
}
