using System.Net;
using System.Text.Json;
using Aether.Netlink;

namespace Aether.Cni;

/// <summary>Reads typed fields of one JSON object, collecting every problem (named with its path) instead of
/// stopping at the first.</summary>
internal sealed class FieldReader(JsonElement obj, string prefix = "", List<FieldError>? errors = null)
{
    public List<FieldError> Errors { get; } = errors ?? [];

    public void Error(string field, string message) => Errors.Add(new FieldError(prefix + field, message));

    public string? String(string field, bool required)
    {
        if (!obj.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(field, "is missing");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Error(field, "must be a JSON string");
            return null;
        }

        return value.GetString();
    }

    public int? Int(string field, bool required, int min, int max)
    {
        if (!obj.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(field, $"is missing: it must be an integer {min} to {max}");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < min || n > max)
        {
            Error(field, $"{value.GetRawText()} is not allowed: it must be an integer {min} to {max}");
            return null;
        }

        return n;
    }

    public void Bool(string field)
    {
        if (obj.TryGetProperty(field, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(field, "must be true or false");
        }
    }

    public List<string>? Strings(string field)
    {
        if (!obj.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            Error(field, "must be a JSON array of strings");
            return null;
        }

        return [.. value.EnumerateArray().Select(v => v.GetString()!)];
    }

    public IPPrefix? Prefix(string field, bool required)
    {
        var text = String(field, required);
        if (text is null)
        {
            return null;
        }

        if (!IPPrefix.TryParse(text, out var prefix, out var why) || !text.Contains('/', StringComparison.Ordinal))
        {
            Error(field, $"'{Netlink.Names.NameText.Printable(text)}' is not a network: it must be ADDRESS/LENGTH (10.1.0.0/24){(why is null ? "" : ": " + why)}");
            return null;
        }

        if (!prefix.Address.Equals(prefix.Network))
        {
            Error(field, $"{text} has host bits set: the network is {prefix.Network}/{prefix.PrefixLength}");
            return null;
        }

        return prefix;
    }

    public IPAddress? Address(string field, bool required)
    {
        var text = String(field, required);
        if (text is null)
        {
            return null;
        }

        if (!IPAddress.TryParse(text, out var address) || text.Contains('/', StringComparison.Ordinal) || text.Contains('%', StringComparison.Ordinal))
        {
            Error(field, $"'{Netlink.Names.NameText.Printable(text)}' is not an IP address (10.1.0.1)");
            return null;
        }

        return address;
    }
}
