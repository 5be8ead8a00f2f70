using System.Globalization;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>Namespaces: each one's name, NAT and sysctls.</summary>
internal sealed partial class TopologyReader
{
    private void ReadNamespace(DefinitionNode node, string path)
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
        if (sysctls is DefinitionMapping map)
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

    private void ReadNat(DefinitionNode node, string path, NamespaceDraft draft)
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

    private void ReadSysctls(DefinitionMapping map, string path, NamespaceDraft draft)
    {
        var seen = new Dictionary<string, (string Key, Mark At)>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Children)
        {
            if (keyNode is not DefinitionScalar { Value: { } key })
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
                case DefinitionScalar scalar when TopologyErrors.IsNull(scalar):
                    _errors.Add(valueNode, keyPath, "needs a value");
                    break;
                case DefinitionScalar { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: "true" or "false" or "True" or "False" or "TRUE" or "FALSE" }:
                    _errors.Add(valueNode, keyPath, $"{TopologyErrors.Describe(valueNode)} is a boolean; sysctls take numbers or text (write 1 or 0)");
                    break;
                case DefinitionScalar scalar:
                    draft.Sysctls.Add(new KeyValuePair<string, string>(key, scalar.Value ?? ""));
                    break;
                default:
                    _errors.Add(valueNode, keyPath, $"expected a single value (a number or text); got {TopologyErrors.Describe(valueNode)}");
                    break;
            }
        }
    }
}
