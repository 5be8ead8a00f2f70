using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.Topology;

/// <summary>
/// Turns the YAML of a topology file into a <see cref="TopologySpec"/>: first each item on its own (keys, types,
/// names, addresses, kind-specific fields), then the file as a whole (duplicates, references between items).
/// Problems go to <see cref="TopologyErrors"/>; the spec is built only when there are none.
/// </summary>
internal sealed class TopologyReader
{
    private const string Host = "the host namespace";

    private readonly TopologyErrors _errors;
    private readonly List<NamespaceDraft> _namespaces = [];
    private readonly List<LinkDraft> _links = [];
    private readonly List<RouteDraft> _routes = [];
    private readonly HashSet<string> _declaredNamespaces = new(StringComparer.Ordinal);

    private TopologyReader(TopologyErrors errors) => _errors = errors;

    /// <summary>Reads <paramref name="yaml"/>; null when anything was reported.</summary>
    public static TopologySpec? Read(string yaml, TopologyErrors errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            errors.Add(e.Start, $"not valid YAML: {YamlMessage(e)}");
            return null;
        }

        if (stream.Documents.Count == 0 || TopologyErrors.IsNull(stream.Documents[0].RootNode))
        {
            errors.Add(Mark.Empty, $"the file is empty; a topology is a mapping with keys {string.Join(", ", TopologyLoader.RootKeys)} (name is required)");
            return null;
        }

        for (var i = 1; i < stream.Documents.Count; i++)
        {
            errors.Add(stream.Documents[i].RootNode.Start, "only one YAML document is allowed per file (remove the extra '---')");
        }

        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode)
        {
            errors.Add(root.Start, $"the top level must be a mapping with keys {string.Join(", ", TopologyLoader.RootKeys)}; got {TopologyErrors.Describe(root)}");
            return null;
        }

        return new TopologyReader(errors).ReadRoot(root);
    }

    /// <summary>YamlDotNet's message without its own position prefix (the error carries the position).</summary>
    private static string YamlMessage(YamlException e)
    {
        var message = e.Message;
        var at = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && at >= 0 ? message[(at + 3)..] : message;
    }

    private TopologySpec? ReadRoot(YamlNode root)
    {
        var fields = _errors.Mapping(root, "", TopologyLoader.RootKeys)!;
        var name = fields.String("name");
        if (fields.Require("name", "the topology's owner name"))
        {
            CheckOwnerName(fields, name);
        }

        var namespaces = fields.List("namespaces");
        for (var i = 0; i < namespaces.Count; i++)
        {
            ReadNamespace(namespaces[i], TopologyErrors.Index("namespaces", i));
        }

        var links = fields.List("links");
        for (var i = 0; i < links.Count; i++)
        {
            ReadLink(links[i], TopologyErrors.Index("links", i));
        }

        var routes = fields.List("routes");
        for (var i = 0; i < routes.Count; i++)
        {
            ReadRoute(routes[i], TopologyErrors.Index("routes", i));
        }

        CheckNamespaces();
        CheckLinks();
        CheckRoutes();

        if (_errors.Count > 0 || name is null)
        {
            return null;
        }

        return new TopologySpec(name)
        {
            Namespaces = [.. _namespaces.Select(n => new TopologyNamespace(n.Name!) { Sysctls = n.Sysctls, Nat = n.Nat })],
            Links = [.. _links.Select(l => l.Build())],
            Routes = [.. _routes.Select(r => r.Build())],
        };
    }

    private void CheckOwnerName(Fields fields, string? name)
    {
        if (name is null)
        {
            return;
        }

        var why = name switch
        {
            "" => "empty",
            { Length: > TopologyLoader.MaxNameLength } => string.Create(CultureInfo.InvariantCulture, $"{name.Length} characters, the limit is {TopologyLoader.MaxNameLength}"),
            _ when !IsOwnerStart(name[0]) => "must start with a lowercase letter or digit",
            _ when !name.All(c => IsOwnerStart(c) || c is '_' or '.' or '-') => "may hold only lowercase letters, digits, '_', '.' and '-'",
            _ => null,
        };
        if (why is not null)
        {
            _errors.Add(fields.PathOf("name"), $"invalid topology name '{name}': {why}");
        }

        static bool IsOwnerStart(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
    }

    // ---- namespaces ----

    private void ReadNamespace(YamlNode node, string path)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.NamespaceKeys);
        if (fields is null)
        {
            return;
        }

        var draft = new NamespaceDraft(path);
        if (fields.Require("name", "the namespace's name under /run/netns"))
        {
            draft.Name = NamespaceName(fields, "name");
        }

        var sysctls = fields.Value("sysctls");
        if (sysctls is YamlMappingNode map)
        {
            ReadSysctls(map, fields.PathOf("sysctls"), draft);
        }
        else if (sysctls is not null)
        {
            _errors.Add(sysctls, fields.PathOf("sysctls"), $"expected a mapping of sysctl keys to values (net.ipv4.ip_forward: 1); got {TopologyErrors.Describe(sysctls)}");
        }

        var nat = fields.List("nat");
        for (var i = 0; i < nat.Count; i++)
        {
            ReadNat(nat[i], TopologyErrors.Index(fields.PathOf("nat"), i), draft);
        }

        _namespaces.Add(draft);
    }

    private void ReadNat(YamlNode node, string path, NamespaceDraft draft)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.NatKeys);
        if (fields is null || !fields.Require("masquerade", "{ source: 10.0.0.0/24, out: eth0 }"))
        {
            return;
        }

        var rule = _errors.Mapping(fields.Value("masquerade")!, fields.PathOf("masquerade"), TopologyLoader.MasqueradeKeys);
        if (rule is null)
        {
            return;
        }

        IPPrefix? source = null;
        if (rule.Require("source", "the prefix whose traffic is masqueraded, such as 10.0.0.0/24") && rule.String("source") is { } text
            && Prefix(rule.PathOf("source"), text) is { } prefix)
        {
            if (!prefix.Network.Equals(prefix.Address))
            {
                _errors.Add(rule.PathOf("source"), string.Create(CultureInfo.InvariantCulture, $"'{text}' has host bits set; the network is {prefix.Network}/{prefix.PrefixLength}"));
            }
            else
            {
                source = prefix;
            }
        }

        var output = rule.Require("out", "the interface the traffic leaves through") ? InterfaceNameField(rule, "out") : null;
        if (source is null || output is null)
        {
            return;
        }

        var masquerade = new TopologyMasquerade(source.Value, output);
        var first = draft.Nat.IndexOf(masquerade);
        if (first >= 0)
        {
            _errors.Add(node, path, $"the same rule as {draft.NatPaths[first]}; give each once");
            return;
        }

        draft.Nat.Add(masquerade);
        draft.NatPaths.Add(path);
    }

    private void ReadSysctls(YamlMappingNode map, string path, NamespaceDraft draft)
    {
        var seen = new Dictionary<string, (string Key, Mark At)>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                _errors.Add(keyNode, path, "sysctl keys must be plain names (net.ipv4.ip_forward)");
                continue;
            }

            var keyPath = $"{path}[{key}]";
            if (!Sysctl.TryNormalizeKey(key, out var normalized, out var why))
            {
                _errors.Add(keyNode, keyPath, $"invalid sysctl key '{key}': {why}");
                continue;
            }

            if (seen.TryGetValue(normalized, out var first))
            {
                _errors.Add(keyNode, keyPath, string.Create(CultureInfo.InvariantCulture, $"the same entry as '{first.Key}' (line {first.At.Line}); give each sysctl once"));
                continue;
            }

            seen[normalized] = (key, keyNode.Start);
            switch (valueNode)
            {
                case YamlScalarNode scalar when TopologyErrors.IsNull(scalar):
                    _errors.Add(valueNode, keyPath, "needs a value");
                    break;
                case YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: "true" or "false" or "True" or "False" or "TRUE" or "FALSE" }:
                    _errors.Add(valueNode, keyPath, $"{TopologyErrors.Describe(valueNode)} is a boolean; sysctls take numbers or text (write 1 or 0)");
                    break;
                case YamlScalarNode scalar:
                    draft.Sysctls.Add(new KeyValuePair<string, string>(key, scalar.Value ?? ""));
                    break;
                default:
                    _errors.Add(valueNode, keyPath, $"expected a single value (a number or text); got {TopologyErrors.Describe(valueNode)}");
                    break;
            }
        }
    }

    // ---- links ----

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

    // ---- routes ----

    private void ReadRoute(YamlNode node, string path)
    {
        var fields = _errors.Mapping(node, path, TopologyLoader.RouteKeys);
        if (fields is null)
        {
            return;
        }

        var draft = new RouteDraft(path) { Namespace = NamespaceName(fields, "namespace") };
        var to = fields.String("to");
        var toValid = false;
        if (fields.Require("to", "a destination prefix such as 10.0.0.0/24, or default") && to is not null)
        {
            if (string.Equals(to, "default", StringComparison.Ordinal))
            {
                draft.IsDefault = true;
                toValid = true;
            }
            else if (Prefix(fields.PathOf("to"), to) is { } prefix)
            {
                if (!prefix.Network.Equals(prefix.Address))
                {
                    _errors.Add(fields.PathOf("to"), string.Create(CultureInfo.InvariantCulture, $"'{to}' has host bits set; the network is {prefix.Network}/{prefix.PrefixLength}"));
                }
                else
                {
                    draft.To = prefix;
                    toValid = true;
                }
            }
        }

        draft.Via = Address(fields, "via");
        draft.Dev = InterfaceNameField(fields, "dev");
        draft.Metric = (uint?)fields.Integer("metric", 0, uint.MaxValue);
        draft.Table = (uint?)fields.Integer("table", 1, uint.MaxValue);
        draft.OnLink = fields.Bool("onlink") ?? false;

        if (draft.IsDefault && !fields.Has("via"))
        {
            _errors.Add(fields.PathOf("to"), "'default' needs via (the route's family comes from via)");
        }
        else if (toValid && !fields.Has("via") && !fields.Has("dev"))
        {
            _errors.Add(fields.Node, path, "needs via, dev or both");
        }

        if (draft.To is { } dest && draft.Via is { } via && dest.Family != via.AddressFamily)
        {
            _errors.Add(fields.PathOf("via"), $"{via} is {Family(via)} but {fields.PathOf("to")} {dest} is {Family(dest.Address)}");
        }

        if (draft.OnLink && !fields.Has("via"))
        {
            _errors.Add(fields.PathOf("onlink"), "only means something with via (the gateway is taken to be on the link)");
        }

        _routes.Add(draft);
    }

    // ---- values ----

    private string? InterfaceNameField(Fields fields, string key)
    {
        var name = fields.String(key);
        if (name is not null && !InterfaceName.IsValid(name, out var why))
        {
            _errors.Add(fields.PathOf(key), $"invalid interface name '{name}': {why}");
            return null;
        }

        return name;
    }

    private string? NamespaceName(Fields fields, string key)
    {
        var name = fields.String(key);
        if (name is null)
        {
            return null;
        }

        if (!NetworkNamespace.IsValidName(name, out var why))
        {
            _errors.Add(fields.PathOf(key), $"invalid namespace name '{name}': {why}");
            return null;
        }

        return name;
    }

    private List<(IPPrefix Prefix, string Path)> Prefixes(Fields fields, string key)
    {
        var result = new List<(IPPrefix, string)>();
        var items = fields.List(key);
        for (var i = 0; i < items.Count; i++)
        {
            var path = TopologyErrors.Index(fields.PathOf(key), i);
            var item = items[i];
            _errors.Remember(path, item);
            if (item is not YamlScalarNode { Value: { } text } || TopologyErrors.IsNull(item))
            {
                _errors.Add(item, path, $"expected an address with its prefix length (10.0.0.1/24); got {TopologyErrors.Describe(item)}");
                continue;
            }

            if (Prefix(path, text) is { } prefix)
            {
                result.Add((prefix, path));
            }
        }

        return result;
    }

    private IPPrefix? Prefix(string path, string text)
    {
        if (!text.Contains('/', StringComparison.Ordinal))
        {
            _errors.Add(path, $"'{text}' has no prefix length; write ADDRESS/LENGTH (10.0.0.1/24, fd00::1/64)");
            return null;
        }

        if (!IPPrefix.TryParse(text, out var prefix, out var why))
        {
            _errors.Add(path, why);
            return null;
        }

        return prefix;
    }

    private IPAddress? Address(Fields fields, string key)
    {
        var text = fields.String(key);
        if (text is null)
        {
            return null;
        }

        if (text.Contains('/', StringComparison.Ordinal))
        {
            _errors.Add(fields.PathOf(key), $"'{text}' is a prefix; write a bare address here");
            return null;
        }

        if (!IPPrefix.TryParse(text, out var prefix, out _))
        {
            _errors.Add(fields.PathOf(key), $"'{text}' is not an IP address (IPv4 as four dotted numbers, or IPv6)");
            return null;
        }

        return prefix.Address;
    }

    private static string Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6";

    private static string Where(string? ns) => ns is null ? Host : $"namespace '{ns}'";

    // ---- the file as a whole ----

    private void CheckNamespaces()
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var ns in _namespaces)
        {
            if (ns.Name is null)
            {
                continue;
            }

            var path = ns.Path + ".name";
            _declaredNamespaces.Add(ns.Name);
            if (!seen.TryAdd(ns.Name, path))
            {
                _errors.Add(path, $"namespace '{ns.Name}' is already declared at {seen[ns.Name]} ({_errors.LineOf(seen[ns.Name])})");
            }
        }
    }

    private void CheckNamespaceReference(string path, string? ns)
    {
        if (ns is not null && !_declaredNamespaces.Contains(ns))
        {
            _errors.Add(path, $"namespace '{ns}' is not declared under namespaces");
        }
    }

    private void CheckLinks()
    {
        // Every interface the file declares, per namespace (null key: the host), a veth's peer in its own.
        var declared = new Dictionary<string, (string Path, TopologyLinkKind? Kind)>(StringComparer.Ordinal);
        static string Key(string? ns, string name) => (ns ?? "") + "/" + name;

        void Declare(string? ns, string? name, string path, TopologyLinkKind? kind)
        {
            if (name is null)
            {
                return;
            }

            if (!declared.TryAdd(Key(ns, name), (path, kind)))
            {
                var first = declared[Key(ns, name)].Path;
                _errors.Add(path, $"'{name}' is already declared in {Where(ns)} at {first} ({_errors.LineOf(first)})");
            }
        }

        foreach (var link in _links)
        {
            CheckNamespaceReference(link.Path + ".namespace", link.Namespace);
            Declare(link.Namespace, link.Name, link.Path + ".name", link.Kind);
            if (link.Peer is { } peer)
            {
                CheckNamespaceReference(peer.Path + ".namespace", peer.Namespace);
                Declare(peer.Namespace ?? link.Namespace, peer.Name, peer.Path + ".name", TopologyLinkKind.Veth);
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
                    _errors.Add(path, $"'{master}' ({target.Path}) is a {(target.Kind is { } k ? KindName(k) : "link")}, not a bridge");
                }
                else if (link.Kind == TopologyLinkKind.Bridge)
                {
                    _errors.Add(path, "a bridge cannot be a port of another bridge");
                }
            }

            if (link.Parent is { } parent && string.Equals(parent, link.Name, StringComparison.Ordinal))
            {
                _errors.Add(link.Path + ".parent", $"'{parent}' cannot be its own parent");
            }
        }

        // One IP once per namespace: on two links, or twice on one.
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        void Claim(string? ns, IReadOnlyList<(IPPrefix Prefix, string Path)> list)
        {
            foreach (var (prefix, path) in list)
            {
                var key = Key(ns, prefix.Address.ToString());
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

    private void CheckRoutes()
    {
        foreach (var route in _routes)
        {
            CheckNamespaceReference(route.Path + ".namespace", route.Namespace);
        }
    }

    // ---- drafts: what was read, field by field, before the whole file is known to be valid ----

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

        public string? Parent { get; set; }

        public MacvlanMode? Mode { get; set; }

        public TopologyLink Build() => new(Name!, Kind!.Value)
        {
            Namespace = Namespace,
            Up = Up,
            Mtu = Mtu,
            Master = Master,
            Addresses = [.. Addresses.Select(a => a.Prefix)],
            Peer = Peer?.Build(),
            Vni = Vni,
            Remote = Remote,
            Local = Local,
            Port = Port,
            Parent = Parent,
            Mode = Mode,
        };
    }

    private sealed class PeerDraft(string path)
    {
        public string Path => path;

        public string? Name { get; set; }

        public string? Namespace { get; set; }

        public List<(IPPrefix Prefix, string Path)> Addresses { get; set; } = [];

        public TopologyPeer Build() => new(Name!) { Namespace = Namespace, Addresses = [.. Addresses.Select(a => a.Prefix)] };
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
