using System.Net;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Names;
using Aether.Netlink.Rtnl;

namespace Aether.Topology;

/// <summary>Values: interface and namespace names, prefixes and addresses, each checked where it is read.</summary>
internal sealed partial class TopologyReader
{
    private string? InterfaceNameField(Fields fields, string key)
    {
        var name = fields.String(key);
        if (name is not null && !InterfaceNameRule.IsValid(name, out var why))
        {
            _errors.Add(fields.PathOf(key), why);
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

        if (!NamespaceNameRule.IsValid(name, out var why))
        {
            _errors.Add(fields.PathOf(key), why);
            return null;
        }

        return name;
    }

    private List<(IPPrefix Prefix, string Path)> Prefixes(Fields fields, string key)
    {
        var items = fields.List(key);
        var result = new List<(IPPrefix, string)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var path = fields.PathOf(key, i);
            var item = items[i];
            _errors.Remember(path, item);
            if (item is not DefinitionScalar { Value: { } text } || TopologyErrors.IsNull(item))
            {
                _errors.Add(item, path, $"expected an address with its prefix length (10.0.0.1/24); got {TopologyErrors.Describe(item)}");
                continue;
            }

            if (Prefix(path, text) is not { } prefix)
            {
                continue;
            }

            if (NotAnInterfaceAddress(prefix.Address) is { } why)
            {
                _errors.Add(path, $"{prefix.Address} {why}");
                continue;
            }

            result.Add((prefix, path));
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
}
