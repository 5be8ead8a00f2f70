using System.Globalization;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Hardware addresses as text (<c>aa:bb:cc:dd:ee:ff</c>).</summary>
public static class MacAddress
{
    /// <summary>Parses colon-separated hex bytes.</summary>
    /// <exception cref="ArgumentException">Not 1..32 two-digit hex bytes separated by colons.</exception>
    public static byte[] Parse(string text) => Parse(text, nameof(text));

    /// <summary>Parses, naming <paramref name="paramName"/> (the options property being validated) in the exception.</summary>
    internal static byte[] Parse(string text, string paramName)
    {
        ArgumentNullException.ThrowIfNull(text, paramName);
        var parts = text.Split(':');
        if (parts.Length is < 1 or > 32)
        {
            throw new ArgumentException($"invalid MAC address '{text}'", paramName);
        }

        var bytes = new byte[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
            {
                throw new ArgumentException($"invalid MAC address '{text}'", paramName);
            }
        }

        return bytes;
    }

    /// <summary>Formats bytes as lowercase colon-separated hex.</summary>
    public static string Format(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        Span<char> chars = stackalloc char[(bytes.Length * 3) - 1];
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i > 0)
            {
                chars[(i * 3) - 1] = ':';
            }

            bytes[i].TryFormat(chars[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
        }

        return new string(chars);
    }

    internal static void Write(ref NetlinkWriter writer, ushort type, string text) => writer.WriteAttribute(type, Parse(text));
}
