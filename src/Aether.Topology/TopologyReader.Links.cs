using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>Links: each one's kind, peer and kind-specific fields.</summary>
internal sealed partial class TopologyReader
{
    private void ReadLink(YamlNode node, string path)
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

        if (fields.Require("kind", $"one of {string.Join(", ", TopologyLoader.LinkKinds)}"))
        {
            draft.Kind = Kind(fields);
        }

        draft.Namespace = NamespaceName(fields, "namespace");
        draft.Up = fields.Bool("up") ?? true;
        draft.Mtu = (int?)fields.Integer("mtu", 68, 65535);
        draft.Master = InterfaceNameField(fields, "master");
        draft.Addresses = Prefixes(fields, "addresses");

        // Keys that belong to some kinds only: reported on the others, and then not read.
        var kindOnly = new (string Key, TopologyLinkKind[] Kinds)[]
        {
            ("peer", [TopologyLinkKind.Veth]),
            ("vni", [TopologyLinkKind.Vxlan]),
            ("remote", [TopologyLinkKind.Vxlan]),
            ("local", [TopologyLinkKind.Vxlan]),
            ("port", [TopologyLinkKind.Vxlan]),
            ("underlay", [TopologyLinkKind.Vxlan]),
            ("parent", [TopologyLinkKind.Macvlan, TopologyLinkKind.Vxlan]),
            ("mode", [TopologyLinkKind.Macvlan]),
        };
        var skip = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, kinds) in kindOnly)
        {
            if (draft.Kind is { } kind && !kinds.Contains(kind) && fields.KeyNode(key) is { } keyNode)
            {
                var owners = string.Join(" and ", kinds.Select(k => KindName(k)));
                _errors.Add(keyNode, fields.PathOf(key), $"only for {owners} links, and this one is a {KindName(kind)}");
                skip.Add(key);
            }
        }

        if (!skip.Contains("peer"))
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

        if (!skip.Contains("vni"))
        {
            draft.Vni = (uint?)fields.Integer("vni", 0, 16_777_215);
            if (draft.Kind == TopologyLinkKind.Vxlan)
            {
                fields.Require("vni", "the VXLAN network identifier, 0..16777215");
            }
        }

        if (!skip.Contains("remote"))
        {
            draft.Remote = Address(fields, "remote");
        }

        if (!skip.Contains("local"))
        {
            draft.Local = Address(fields, "local");
        }

        if (draft.Remote is { } remote && draft.Local is { } local && remote.AddressFamily != local.AddressFamily)
        {
            _errors.Add(fields.PathOf("local"), $"{local} is {Family(local)} but remote {remote} is {Family(remote)}");
        }

        if (!skip.Contains("port"))
        {
            draft.Port = (ushort?)fields.Integer("port", 1, 65535);
        }

        if (!skip.Contains("underlay"))
        {
            draft.Underlay = Underlay(fields);
        }

        if (!skip.Contains("parent"))
        {
            draft.Parent = InterfaceNameField(fields, "parent");
            if (draft.Kind == TopologyLinkKind.Macvlan)
            {
                fields.Require("parent", "the device the macvlan sits on");
            }
        }

        if (!skip.Contains("mode"))
        {
            draft.Mode = Mode(fields);
        }

        ReadWireGuard(fields, draft);

        _links.Add(draft);
    }

    private PeerDraft? ReadPeer(YamlNode node, string path)
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
        var index = text is null ? -1 : IndexOf(TopologyLoader.LinkKinds, text);
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

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static string KindName(TopologyLinkKind kind) => TopologyLoader.LinkKinds[(int)kind];
}
