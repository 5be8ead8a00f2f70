using System.Diagnostics.CodeAnalysis;

namespace Aether.WireGuard;

/// <summary>
/// A WireGuard public key: 32 bytes, shown as wg(8) shows it (base64, 44 characters). Public keys name peers and are
/// safe to print; private and preshared keys are <see cref="WireGuardSecretKey"/>, which never prints itself.
/// </summary>
public readonly struct WireGuardKey : IEquatable<WireGuardKey>
{
    private readonly byte[]? _bytes;

    private WireGuardKey(byte[]? bytes) => _bytes = bytes;

    /// <summary>The key's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => KeyBytes.Of(_bytes);

    /// <summary>Whether every byte is zero (no key).</summary>
    public bool IsZero => KeyBytes.IsZero(_bytes);

    /// <summary>The key from its 32 bytes.</summary>
    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public static WireGuardKey FromBytes(ReadOnlySpan<byte> bytes) => new(KeyBytes.Copy(bytes));

    /// <summary>Parses wg(8)'s base64 form.</summary>
    /// <exception cref="FormatException">Not a key, in wg's words.</exception>
    public static WireGuardKey Parse(string text) =>
        TryParse(text, out var key) ? key : throw new FormatException("Key is not the correct length or format");

    /// <summary>Tries wg(8)'s base64 form: exactly 44 characters, canonical.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out WireGuardKey key)
    {
        var bytes = KeyBytes.TryParseBase64(text);
        key = new WireGuardKey(bytes);
        return bytes is not null;
    }

    /// <summary>Parses the UAPI's hex form (64 hex digits).</summary>
    public static bool TryParseHex(ReadOnlySpan<char> text, out WireGuardKey key)
    {
        var bytes = KeyBytes.TryParseHex(text);
        key = new WireGuardKey(bytes);
        return bytes is not null;
    }

    /// <summary>The UAPI's hex form.</summary>
    public string ToHex() => Convert.ToHexStringLower(Bytes);

    /// <summary>The base64 form wg(8) prints.</summary>
    public override string ToString() => Convert.ToBase64String(Bytes);

    /// <inheritdoc/>
    public bool Equals(WireGuardKey other) => Bytes.SequenceEqual(other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WireGuardKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => KeyBytes.Hash(_bytes);

    /// <summary>Equality by bytes.</summary>
    public static bool operator ==(WireGuardKey left, WireGuardKey right) => left.Equals(right);

    /// <summary>Inequality by bytes.</summary>
    public static bool operator !=(WireGuardKey left, WireGuardKey right) => !left.Equals(right);
}
