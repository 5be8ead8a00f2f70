using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Labs;

/// <summary>Writes a lab back as a lab file (what the store keeps after a hot connect or disconnect changed a deployed
/// lab): the reader reads it back to the same lab. Strings are written as JSON strings, which YAML reads as they are.</summary>
public static class LabWriter
{
    /// <summary>The lab file of <paramref name="lab"/>.</summary>
    public static string Write(LabSpec lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"name: {Quote(lab.Name)}\n");
        text.Append(CultureInfo.InvariantCulture, $"fabric: {(lab.Fabric == LabFabric.Ovs ? "ovs" : "veth")}\n");
        if (lab.IsPlaced)
        {
            text.Append(CultureInfo.InvariantCulture, $"cross_host: {{ mtu: {(lab.CrossHostMtu == CrossHostMtu.Underlay ? "underlay" : "lower")}, transport: {TransportText(lab.CrossHostTransport)} }}\n");
        }

        text.Append("nodes:\n");
        foreach (var node in lab.Nodes)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {Quote(node.Name)}: {{ kind: {Quote(node.Kind)}");
            if (!string.Equals(node.Namespace, lab.Name + "-" + node.Name, StringComparison.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $", namespace: {Quote(node.Namespace)}");
            }

            if (node.Exec.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", exec: [{string.Join(", ", node.Exec.Select(Quote))}]");
            }

            if (node.AutoHost)
            {
                text.Append(", host: auto");
            }
            else if (node.Host is { } host)
            {
                text.Append(CultureInfo.InvariantCulture, $", host: {Quote(host.Value)}");
            }

            text.Append(" }\n");
        }

        text.Append(lab.Links.Count == 0 ? "links: []\n" : "links:\n");
        foreach (var link in lab.Links)
        {
            text.Append(CultureInfo.InvariantCulture, $"  - endpoints: [{Quote(link.A.ToString())}, {Quote(link.B.ToString())}]\n");
            if (link.Mtu is { } mtu)
            {
                text.Append(CultureInfo.InvariantCulture, $"    mtu: {mtu}\n");
            }

            if (link.Transport is { } transport)
            {
                text.Append(CultureInfo.InvariantCulture, $"    transport: {TransportText(transport)}\n");
            }
        }

        return text.ToString();
    }

    private static string TransportText(CrossHostTransport transport) => transport == CrossHostTransport.WireGuard ? "wireguard" : "vxlan";

    private static string Quote(string value) => JsonSerializer.Serialize(value, LabJsonContext.Default.String);
}

/// <summary>The JSON this project writes, generated at build time.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class LabJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
