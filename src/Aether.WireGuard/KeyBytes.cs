using System.Security.Cryptography;

namespace Aether.WireGuard;

/// <summary>The 32 bytes of a WireGuard key (<c>WG_KEY_LEN</c>) and their text forms, shared by both key types.</summary>
internal static class KeyBytes
{
    /// <summary><c>WG_KEY_LEN</c>.</summary>
    public const int Length = 32;

    private static readonly byte[] ZeroKey = new byte[Length];

    /// <summary>A private copy of <paramref name="bytes"/>, checked to be 32 bytes.</summary>
    public static byte[] Copy(ReadOnlySpan<byte> bytes) =>
        bytes.Length == Length ? bytes.ToArray() : throw new ArgumentException($"a WireGuard key is {Length} bytes, not {bytes.Length}", nameof(bytes));

    /// <summary>The bytes of a key whose array may be null (the default key: all zero).</summary>
    public static ReadOnlySpan<byte> Of(byte[]? bytes) => bytes ?? ZeroKey;

    /// <summary>wg(8)'s base64 form: 44 characters, the last one '=', and canonical (the unused low bits of the 43rd
    /// character zero): exactly what wg's <c>key_from_base64</c> accepts.</summary>
    public static byte[]? TryParseBase64(ReadOnlySpan<char> text)
    {
        if (text.Length != 44 || text[43] != '=')
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[33];
        if (!Convert.TryFromBase64Chars(text, bytes, out var written) || written != Length)
        {
            return null;
        }

        Span<char> again = stackalloc char[44];
        if (!Convert.TryToBase64Chars(bytes[..Length], again, out _) || !again.SequenceEqual(text))
        {
            CryptographicOperations.ZeroMemory(bytes);
            return null;
        }

        var key = bytes[..Length].ToArray();
        CryptographicOperations.ZeroMemory(bytes);
        return key;
    }

    /// <summary>The UAPI form: 64 hex digits (either case on input).</summary>
    public static byte[]? TryParseHex(ReadOnlySpan<char> text)
    {
        if (text.Length != 2 * Length)
        {
            return null;
        }

        var bytes = new byte[Length];
        return Convert.FromHexString(text, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == Length ? bytes : null;
    }

    public static bool IsZero(byte[]? bytes) => bytes is null || bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    public static int Hash(byte[]? bytes)
    {
        var hash = default(HashCode);
        hash.AddBytes(Of(bytes));
        return hash.ToHashCode();
    }
}
