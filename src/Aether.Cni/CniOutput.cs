using System.Buffers;
using System.Text.Json;

namespace Aether.Cni;

/// <summary>One interface of a result.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Mac">Its hardware address, or null.</param>
/// <param name="Sandbox">The namespace path it is in, or null for the host.</param>
internal sealed record ResultInterface(string Name, string? Mac, string? Sandbox);

/// <summary>One address of a result.</summary>
/// <param name="Address">ADDRESS/LENGTH.</param>
/// <param name="Gateway">The gateway, or null.</param>
/// <param name="Interface">The index into the result's interfaces.</param>
internal sealed record ResultIp(string Address, string? Gateway, int Interface);

/// <summary>What ADD returns (CNI 1.0, "Success"): this plugin's interfaces, addresses and routes after those of a
/// <c>prevResult</c> (chained), and the configured <c>dns</c>.</summary>
/// <param name="Interfaces">This plugin's interfaces.</param>
/// <param name="Ips">Its addresses (interface indices into <paramref name="Interfaces"/>).</param>
/// <param name="Routes">Its routes (destination, gateway).</param>
internal sealed record CniResult(IReadOnlyList<ResultInterface> Interfaces, IReadOnlyList<ResultIp> Ips, IReadOnlyList<(string Dst, string? Gw)> Routes);

/// <summary>Writes the JSON a CNI plugin prints on stdout.</summary>
internal static class CniOutput
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>The VERSION answer.</summary>
    public static byte[] Version(string cniVersion) => Write(w =>
    {
        w.WriteString("cniVersion", cniVersion);
        w.WriteStartArray("supportedVersions");
        foreach (var v in NetworkConfig.SupportedVersions)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    });

    /// <summary>An error.</summary>
    public static byte[] Error(string cniVersion, CniException e) => Write(w =>
    {
        w.WriteString("cniVersion", cniVersion);
        w.WriteNumber("code", e.Code);
        w.WriteString("msg", e.Message);
        if (e.Details is { Length: > 0 })
        {
            w.WriteString("details", e.Details);
        }
    });

    /// <summary>A result, after the <paramref name="prev"/>ious plugin's (its interfaces first, so theirs keep their
    /// indices and ours are shifted past them).</summary>
    public static byte[] Result(string cniVersion, CniResult result, JsonElement? prev, CniDns? dns) => Write(w =>
    {
        w.WriteString("cniVersion", cniVersion);
        var offset = 0;
        w.WriteStartArray("interfaces");
        foreach (var e in Items(prev, "interfaces"))
        {
            e.WriteTo(w);
            offset++;
        }

        foreach (var i in result.Interfaces)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            if (i.Mac is not null)
            {
                w.WriteString("mac", i.Mac);
            }

            if (i.Sandbox is not null)
            {
                w.WriteString("sandbox", i.Sandbox);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("ips");
        foreach (var e in Items(prev, "ips"))
        {
            e.WriteTo(w);
        }

        foreach (var ip in result.Ips)
        {
            w.WriteStartObject();
            w.WriteString("address", ip.Address);
            if (ip.Gateway is not null)
            {
                w.WriteString("gateway", ip.Gateway);
            }

            w.WriteNumber("interface", ip.Interface + offset);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("routes");
        foreach (var e in Items(prev, "routes"))
        {
            e.WriteTo(w);
        }

        foreach (var (dst, gw) in result.Routes)
        {
            w.WriteStartObject();
            w.WriteString("dst", dst);
            if (gw is not null)
            {
                w.WriteString("gw", gw);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (dns is not null)
        {
            WriteDns(w, dns);
        }
        else if (prev is { } p && p.TryGetProperty("dns", out var prevDns) && prevDns.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("dns");
            prevDns.WriteTo(w);
        }
    });

    /// <summary>An object written by <paramref name="body"/>, followed by a newline.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, Indented))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteDns(Utf8JsonWriter w, CniDns dns)
    {
        w.WriteStartObject("dns");
        WriteList(w, "nameservers", dns.Nameservers);
        if (dns.Domain is not null)
        {
            w.WriteString("domain", dns.Domain);
        }

        WriteList(w, "search", dns.Search);
        WriteList(w, "options", dns.Options);
        w.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var i in items)
        {
            w.WriteStringValue(i);
        }

        w.WriteEndArray();
    }

    private static List<JsonElement> Items(JsonElement? prev, string name) =>
        prev is { } p && p.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray()] : [];
}
