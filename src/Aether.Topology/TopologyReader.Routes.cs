using System.Globalization;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>Routes: each one's destination, gateway, device and table.</summary>
internal sealed partial class TopologyReader
{
    private void ReadRoute(DefinitionNode node, string path)
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
}
