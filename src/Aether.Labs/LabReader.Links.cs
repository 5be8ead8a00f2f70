using System.Globalization;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>Links: two endpoints each, <c>node:interface</c>, the interface written with a vendor name or a Linux
/// name and mapped through the node's profile.</summary>
internal sealed partial class LabReader
{
    private const string EndpointsShape = "[\"r1:Ethernet1\", \"r2:ge-0/0/0\"]";

    private void ReadLink(DefinitionNode node, string path)
    {
        var fields = _problems.Mapping(node, path, LabLoader.LinkKeys);
        if (fields is null)
        {
            return;
        }

        var draft = new LinkDraft(path);
        _links.Add(draft);
        draft.Mtu = (int?)fields.Integer("mtu", LabLoader.MinMtu, LabLoader.MaxMtu);
        draft.TransportGiven = fields.Has("transport");
        draft.Transport = TransportOf(fields);
        if (!fields.Require("endpoints", $"the two interfaces the link joins, {EndpointsShape}"))
        {
            return;
        }

        var value = fields.Value("endpoints")!;
        var endpointsPath = fields.PathOf("endpoints");
        if (value is not DefinitionList { Children: var items })
        {
            _problems.Add(value, endpointsPath, $"expected a list of two endpoints, {EndpointsShape}; got {YamlProblems.Describe(value)}");
            return;
        }

        if (items.Count != 2)
        {
            _problems.Add(value, endpointsPath, string.Create(CultureInfo.InvariantCulture,
                $"a link has exactly two endpoints, {EndpointsShape}; got {items.Count}"));
            return;
        }

        draft.A = Endpoint(items[0], YamlProblems.Index(endpointsPath, 0));
        draft.B = Endpoint(items[1], YamlProblems.Index(endpointsPath, 1));
    }

    /// <summary>Reads <c>node:interface</c>, with the interface mapped through the node's profile; null (reported)
    /// when it cannot be.</summary>
    private EndpointDraft? Endpoint(DefinitionNode node, string path)
    {
        _problems.Remember(path, node);
        if (node is not DefinitionScalar { Value: { } text } || YamlProblems.IsNull(node))
        {
            _problems.Add(node, path, $"expected a string node:interface (r1:Ethernet1); got {YamlProblems.Describe(node)}");
            return null;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            _problems.Add(path, $"{NameText.Quote(text)} is not node:interface (r1:Ethernet1)");
            return null;
        }

        var (nodeName, name) = (text[..colon], text[(colon + 1)..]);
        if (nodeName.Length == 0 || name.Length == 0)
        {
            _problems.Add(path, $"{NameText.Quote(text)} is not node:interface (r1:Ethernet1): the {(nodeName.Length == 0 ? "node" : "interface")} is empty");
            return null;
        }

        if (!_nodesByName.TryGetValue(nodeName, out var target))
        {
            if (_nodesRead)
            {
                var near = Spelling.Nearest(nodeName, _nodesByName.Keys);
                _problems.Add(path, $"node {NameText.Quote(nodeName)} is not in nodes{(near is null ? "" : $"; did you mean '{near}'?")}");
            }

            return null;
        }

        if (target.Kind is null)
        {
            // The node's kind is missing or unknown (reported there): its names cannot be checked.
            return null;
        }

        if (!_profiles.TryMap(target.Kind, name, out var match, out var error))
        {
            _problems.Add(path, $"node {nodeName}: {error}");
            return null;
        }

        return new EndpointDraft(new LabEndpoint(nodeName, match.Linux, match.Vendor), path, text);
    }

    /// <summary>
    /// The file as a whole: a link from an interface to itself, the same link twice (whatever the spelling and
    /// direction: <c>r1:Ethernet1-r2:ge-0/0/0</c> and <c>r2:eth1-r1:eth1</c> are one link), and an interface used by
    /// two links.
    /// </summary>
    private void CheckLinks()
    {
        var links = new Dictionary<LinkId, LinkDraft>();
        var used = new Dictionary<string, EndpointDraft>(StringComparer.Ordinal);
        foreach (var link in _links)
        {
            if (link is { A: { } a, B: { } b })
            {
                if (string.Equals(a.Endpoint.Key, b.Endpoint.Key, StringComparison.Ordinal))
                {
                    _problems.Add(b.Path, $"'{b.Written}' is the same interface as the other end '{a.Written}' ({a.Endpoint.Key}): a link joins two different interfaces");
                    Use(a);
                    continue;
                }

                var id = LinkId.Of(a.Endpoint, b.Endpoint);
                if (links.TryGetValue(id, out var first))
                {
                    var at = link.Path + ".endpoints";
                    _problems.Add(at, $"the same link as {first.Path} ({_problems.LineOf(first.Path + ".endpoints")}): " +
                        $"{a.Written}-{b.Written} and {first.A!.Written}-{first.B!.Written} are both {id}");
                    continue;
                }

                links[id] = link;
            }

            Use(link.A);
            Use(link.B);
        }

        void Use(EndpointDraft? end)
        {
            if (end is null)
            {
                return;
            }

            if (used.TryGetValue(end.Endpoint.Key, out var first))
            {
                var spelling = string.Equals(first.Written, end.Written, StringComparison.Ordinal) ? "" : $", written '{first.Written}'";
                _problems.Add(end.Path, $"'{end.Written}' ({end.Endpoint.Key}) is already used by {first.Path} ({_problems.LineOf(first.Path)}{spelling}): an interface joins one link");
                return;
            }

            used[end.Endpoint.Key] = end;
        }
    }

    /// <summary>Two nodes in one namespace (named, or the default <c>LAB-NODE</c>).</summary>
    private void CheckNamespaces()
    {
        var seen = new Dictionary<string, NodeDraft>(StringComparer.Ordinal);
        foreach (var node in _nodes)
        {
            var ns = node.Namespace ?? (_lab is null ? null : LabNames.DefaultNamespace(_lab, node.Name));
            if (ns is null)
            {
                continue;
            }

            if (seen.TryGetValue(ns, out var first))
            {
                var at = node.Namespace is null ? node.Path : node.Path + ".namespace";
                _problems.Add(at, $"namespace '{ns}' is already node {first.Name}'s ({_problems.LineOf(first.Path)}): each node has its own");
                continue;
            }

            seen[ns] = node;
        }
    }
}
