using System.Buffers;
using System.Text.Json;

namespace Aether.Ovsdb.Internal;

/// <summary>
/// JSON-RPC 1.0 as OVSDB uses it (RFC 7047 section 4): a request is <c>{"method", "params", "id"}</c>, a reply
/// <c>{"result", "error", "id"}</c>, a notification a request whose id is null. Messages are written with a
/// <see cref="Utf8JsonWriter"/> into a buffer that goes to the socket whole.
/// </summary>
internal static class JsonRpc
{
    /// <summary><c>{"method": M, "params": P, "id": ID}</c>.</summary>
    public static ReadOnlyMemory<byte> Request(string method, Action<Utf8JsonWriter> writeParams, long id)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("method", method);
            w.WritePropertyName("params");
            writeParams(w);
            w.WriteNumber("id", id);
            w.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary><c>{"result": R, "error": null, "id": ID}</c>, the id copied as the request gave it.</summary>
    public static ReadOnlyMemory<byte> Result(JsonElement id, JsonElement result)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("result");
            result.WriteTo(w);
            w.WriteNull("error");
            w.WritePropertyName("id");
            id.WriteTo(w);
            w.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary><c>{"result": null, "error": {"error": E, "details": D}, "id": ID}</c>.</summary>
    public static ReadOnlyMemory<byte> Error(JsonElement id, string error, string details)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNull("result");
            w.WriteStartObject("error");
            w.WriteString("error", error);
            w.WriteString("details", details);
            w.WriteEndObject();
            w.WritePropertyName("id");
            id.WriteTo(w);
            w.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>An OVSDB error object (<c>{"error": E, "details": D}</c>, or whatever else the server sent as an error)
    /// as an exception.</summary>
    public static OvsdbException ToException(JsonElement error, string? method, int? index = null, string? operation = null)
    {
        if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("error", out var e))
        {
            var details = error.TryGetProperty("details", out var d) ? (d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetRawText()) : null;
            return new OvsdbException(e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(), details, method, index, operation);
        }

        return new OvsdbException(error.ValueKind == JsonValueKind.String ? error.GetString()! : error.GetRawText(), null, method, index, operation);
    }
}
