using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Aether.Labs;

namespace Aether.Cli;

/// <summary>The lab commands' JSON, written field by field (no reflection).</summary>
internal static class LabJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{"command", "lab", "links": [{"endpoints": ["r1:Ethernet1", "r2:ge-0/0/0"], "linux": [...], "state",
    /// "vlan", "error", "checked"}], "error"}</c>, with the counts of a reconciliation: the shape the daemon's API
    /// answers too (<see cref="LabLinksView"/>).</summary>
    public static string Links(string command, string lab, LabResult result) => LabLinksView.From(command, lab, result).ToJson();

    /// <summary><c>{"lab", "fabric", "nodes": [{"name", "kind", "namespace", "present", "exec", "interfaces":
    /// [{"vendor", "linux", "state"}]}]}</c>.</summary>
    public static string Inspect(LabSpec lab, HashSet<string> present, ILookup<string, LabEndpoint> ends, Dictionary<string, LinkState> byEnd) => Write(w =>
    {
        w.WriteString("lab", lab.Name);
        w.WriteString("fabric", lab.Fabric.ToString().ToLowerInvariant());
        w.WriteStartArray("nodes");
        foreach (var node in lab.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("name", node.Name);
            w.WriteString("kind", node.Kind);
            w.WriteString("namespace", node.Namespace);
            w.WriteBoolean("present", present.Contains(node.Namespace));
            w.WriteStartArray("exec");
            foreach (var arg in node.Exec)
            {
                w.WriteStringValue(arg);
            }

            w.WriteEndArray();
            w.WriteStartArray("interfaces");
            foreach (var end in ends[node.Name].OrderBy(e => e.Linux, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("vendor", end.Vendor);
                w.WriteString("linux", end.Linux);
                w.WriteString("state", byEnd.TryGetValue(end.Key, out var link) ? link.Status.ToString().ToLowerInvariant() : null);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
