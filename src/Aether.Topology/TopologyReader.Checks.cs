using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>The file as a whole: duplicates and references between items, checked once every item is read.</summary>
internal sealed partial class TopologyReader
{
    private void CheckNamespaces()
    {
        var seen = new Dictionary<string, NamespaceDraft>(_namespaces.Count, StringComparer.Ordinal);
        _declaredNamespaces.EnsureCapacity(_namespaces.Count);
        foreach (var ns in _namespaces)
        {
            if (ns.Name is null)
            {
                continue;
            }

            _declaredNamespaces.Add(ns.Name);
            if (!seen.TryAdd(ns.Name, ns))
            {
                var first = seen[ns.Name].Path + ".name";
                _errors.Add(ns.Path + ".name", $"namespace '{ns.Name}' is already declared at {first} ({_errors.LineOf(first)})");
            }
        }
    }

    /// <summary>Reports <paramref name="ns"/>, read at <c>OWNER.KEY</c>, when the file does not declare it.</summary>
    private void CheckNamespaceReference(string owner, string key, string? ns)
    {
        if (ns is not null && !_declaredNamespaces.Contains(ns))
        {
            _errors.Add(TopologyErrors.Join(owner, key), $"namespace '{ns}' is not declared under namespaces");
        }
    }

    private void CheckLinks()
    {
        // Every interface the file declares, per namespace ("": the host), a veth's peer in its own; by the path of the
        // item that declares it (its name is at OWNER.name).
        var declared = new Dictionary<(string Namespace, string Name), (string Owner, TopologyLinkKind? Kind)>(_links.Count * 2);
        static (string, string) Key(string? ns, string name) => (ns ?? "", name);

        void Declare(string? ns, string? name, string owner, TopologyLinkKind? kind)
        {
            if (name is null)
            {
                return;
            }

            if (!declared.TryAdd(Key(ns, name), (owner, kind)))
            {
                var first = declared[Key(ns, name)].Owner + ".name";
                _errors.Add(owner + ".name", $"'{name}' is already declared in {Where(ns)} at {first} ({_errors.LineOf(first)})");
            }
        }

        foreach (var link in _links)
        {
            CheckNamespaceReference(link.Path, "namespace", link.Namespace);
            Declare(link.Namespace, link.Name, link.Path, link.Kind);
            if (link.Peer is { } peer)
            {
                CheckNamespaceReference(peer.Path, "namespace", peer.Namespace);
                Declare(peer.Namespace ?? link.Namespace, peer.Name, peer.Path, TopologyLinkKind.Veth);
            }
        }

        foreach (var link in _links)
        {
            if (link.Master is { } master)
            {
                var path = link.Path + ".master";
                if (string.Equals(master, link.Name, StringComparison.Ordinal))
                {
                    _errors.Add(path, $"'{master}' cannot be its own master");
                }
                else if (!declared.TryGetValue(Key(link.Namespace, master), out var target))
                {
                    _errors.Add(path, $"'{master}' is not a bridge declared in {Where(link.Namespace)}");
                }
                else if (target.Kind != TopologyLinkKind.Bridge)
                {
                    _errors.Add(path, $"'{master}' ({target.Owner}.name) is a {(target.Kind is { } k ? KindName(k) : "link")}, not a bridge");
                }
                else if (link.Kind == TopologyLinkKind.Bridge)
                {
                    _errors.Add(path, "a bridge cannot be a port of another bridge");
                }
            }

            if (link.Parent is { } parent && string.Equals(parent, link.Name, StringComparison.Ordinal) && link.Underlay is null)
            {
                _errors.Add(link.Path + ".parent", $"'{parent}' cannot be its own parent");
            }

            if (link.Underlay is { } underlay)
            {
                CheckUnderlay(link, underlay);
            }
        }

        // One IP once per namespace: on two links, or twice on one. (An interface address has no scope id: addresses
        // equal as IPAddress are equal as text.)
        var addresses = new Dictionary<(string Namespace, IPAddress Address), string>(_links.Count * 2);
        void Claim(string? ns, List<(IPPrefix Prefix, string Path)> list)
        {
            foreach (var (prefix, path) in list)
            {
                var key = (ns ?? "", prefix.Address);
                if (!addresses.TryAdd(key, path))
                {
                    var first = addresses[key];
                    _errors.Add(path, $"{prefix.Address} is already given in {Where(ns)} at {first} ({_errors.LineOf(first)})");
                }
            }
        }

        foreach (var link in _links)
        {
            Claim(link.Namespace, link.Addresses);
            if (link.Peer is { } peer)
            {
                Claim(peer.Namespace ?? link.Namespace, peer.Addresses);
            }
        }
    }

    /// <summary>A VXLAN's underlay is the host or a declared namespace, and not the link's own namespace (that is a
    /// VXLAN without underlay).</summary>
    private void CheckUnderlay(LinkDraft link, VxlanUnderlay underlay)
    {
        var path = link.Path + ".underlay";
        if (underlay.Namespace is null && _declaredNamespaces.Contains(TopologyLoader.HostUnderlay))
        {
            _errors.Add(path, $"'{TopologyLoader.HostUnderlay}' means the host namespace here, and the file also declares a namespace named '{TopologyLoader.HostUnderlay}', which cannot be an underlay; rename that namespace");
            return;
        }

        CheckNamespaceReference(link.Path, "underlay", underlay.Namespace);
        if (string.Equals(underlay.Namespace, link.Namespace, StringComparison.Ordinal))
        {
            _errors.Add(path, $"{(underlay.Namespace is null ? $"'{TopologyLoader.HostUnderlay}'" : $"'{underlay.Namespace}'")} is the link's own namespace ({Where(link.Namespace)}); leave underlay out for a tunnel in the link's own namespace, or name the namespace that carries it");
        }
    }

    private void CheckRoutes()
    {
        foreach (var route in _routes)
        {
            CheckNamespaceReference(route.Path, "namespace", route.Namespace);
        }
    }
}
