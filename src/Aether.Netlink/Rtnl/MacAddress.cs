using System.Globalization;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>Hardware addresses as text (<c>aa:bb:cc:dd:ee:ff</c>).</summary>
public static class MacAddress
{
    /// <summary>The longest hardware address accepted (<c>MAX_ADDR_LEN</c>).</summary>
    public const int MaxBytes = 32;

    /// <summary>Parses colon-separated hex bytes.</summary>
    /// <exception cref="ArgumentException">Not 1..32 two-digit hex bytes separated by colons.</exception>
    public static byte[] Parse(string text) => Parse(text, nameof(text));

    /// <summary>Parses, naming <paramref name="paramName"/> (the options property being validated) in the exception.</summary>
    internal static byte[] Parse(string text, string paramName)
    {
        ArgumentNullException.ThrowIfNull(text, paramName);
        Span<byte> bytes = stackalloc byte[MaxBytes];
        return TryParse(text, bytes, out var length)
            ? bytes[..length].ToArray()
            : throw new ArgumentException($"invalid MAC address '{text}': expected 1-{MaxBytes} two-digit hex bytes separated by ':'", paramName);
    }

    /// <summary>Parses into <paramref name="destination"/> without allocating.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> destination, out int length)
    {
        length = 0;
        if (text.Length < 2 || (text.Length + 1) % 3 != 0)
        {
            return false;
        }

        var count = (text.Length + 1) / 3;
        if (count > MaxBytes || count > destination.Length)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if ((i > 0 && text[(i * 3) - 1] != ':')
                || !byte.TryParse(text.Slice(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out destination[i]))
            {
                return false;
            }
        }

        length = count;
        return true;
    }

    /// <summary>Formats bytes as lowercase colon-separated hex.</summary>
    public static string Format(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        // Hardware addresses are short; anything longer than MAX_ADDR_LEN is formatted on the heap.
        var chars = bytes.Length <= MaxBytes ? stackalloc char[(MaxBytes * 3) - 1] : new char[(bytes.Length * 3) - 1];
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i > 0)
            {
                chars[(i * 3) - 1] = ':';
            }

            bytes[i].TryFormat(chars[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
        }

        return new string(chars[..((bytes.Length * 3) - 1)]);
    }

    /// <summary>Writes an attribute holding the parsed address; the text was validated before, so this allocates nothing.</summary>
    internal static void Write(ref NetlinkWriter writer, ushort type, string text)
    {
        Span<byte> bytes = stackalloc byte[MaxBytes];
        if (!TryParse(text, bytes, out var length))
        {
            throw new ArgumentException($"invalid MAC address '{text}'", nameof(text));
        }

        writer.WriteAttribute(type, bytes[..length]);
    }
}
