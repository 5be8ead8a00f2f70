using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Aether.WireGuard.Interop;

namespace Aether.WireGuard;

/// <summary>
/// A private or preshared WireGuard key. It never shows itself: <see cref="ToString"/> prints <c>(hidden)</c>, as
/// <c>wg show</c> does, so a logged device or peer record cannot leak it. <see cref="ToBase64"/> reveals it, for the
/// one place that must (<c>aether wg genkey</c>).
/// </summary>
public readonly struct WireGuardSecretKey : IEquatable<WireGuardSecretKey>
{
    private readonly byte[]? _bytes;

    private WireGuardSecretKey(byte[]? bytes) => _bytes = bytes;

    /// <summary>The all-zero key: sent to the kernel or the UAPI it removes a private or preshared key.</summary>
    public static WireGuardSecretKey Zero => default;

    /// <summary>Whether every byte is zero (no key).</summary>
    public bool IsZero => KeyBytes.IsZero(_bytes);

    /// <summary>The key's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => KeyBytes.Of(_bytes);

    /// <summary>A new private key, as <c>wg genkey</c> makes one: 32 random bytes, clamped for Curve25519.</summary>
    public static WireGuardSecretKey GeneratePrivate()
    {
        var bytes = RandomNumberGenerator.GetBytes(KeyBytes.Length);
        Clamp(bytes);
        return new WireGuardSecretKey(bytes);
    }

    /// <summary>A new preshared key, as <c>wg genpsk</c> makes one: 32 random bytes.</summary>
    public static WireGuardSecretKey GeneratePreshared()
    {
        return new WireGuardSecretKey(RandomNumberGenerator.GetBytes(KeyBytes.Length));
    }

    /// <summary>The key from its 32 bytes.</summary>
    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public static WireGuardSecretKey FromBytes(ReadOnlySpan<byte> bytes) => new(KeyBytes.Copy(bytes));

    /// <summary>Parses wg(8)'s base64 form.</summary>
    /// <exception cref="FormatException">Not a key (the message never quotes the input).</exception>
    public static WireGuardSecretKey Parse(string text) =>
        TryParse(text, out var key) ? key : throw new FormatException("Key is not the correct length or format");

    /// <summary>Tries wg(8)'s base64 form: exactly 44 characters, canonical.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out WireGuardSecretKey key)
    {
        var bytes = KeyBytes.TryParseBase64(text);
        key = new WireGuardSecretKey(bytes);
        return bytes is not null;
    }

    /// <summary>Parses the UAPI's hex form (64 hex digits).</summary>
    public static bool TryParseHex(ReadOnlySpan<char> text, out WireGuardSecretKey key)
    {
        var bytes = KeyBytes.TryParseHex(text);
        key = new WireGuardSecretKey(bytes);
        return bytes is not null;
    }

    /// <summary>
    /// The public key of this private key: X25519 of the clamped key with the base point, through OpenSSL
    /// (<c>EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519)</c>, <c>EVP_PKEY_get_raw_public_key</c>). OpenSSL clamps as
    /// wg(8)'s <c>curve25519_generate_public</c> does, so an unclamped key gives the same answer as <c>wg pubkey</c>.
    /// </summary>
    /// <exception cref="CryptographicException">OpenSSL refused; its error text is included.</exception>
    public unsafe WireGuardKey GetPublicKey()
    {
        Span<byte> publicKey = stackalloc byte[KeyBytes.Length];
        Span<byte> privateKey = stackalloc byte[KeyBytes.Length];
        Bytes.CopyTo(privateKey);
        nint pkey;
        fixed (byte* p = privateKey)
        {
            pkey = LibCrypto.NewRawPrivateKey(LibCrypto.EvpPkeyX25519, 0, p, KeyBytes.Length);
        }

        CryptographicOperations.ZeroMemory(privateKey);
        if (pkey == 0)
        {
            throw new CryptographicException("X25519: EVP_PKEY_new_raw_private_key failed: " + LibCrypto.LastError());
        }

        try
        {
            nuint length = KeyBytes.Length;
            fixed (byte* p = publicKey)
            {
                if (LibCrypto.GetRawPublicKey(pkey, p, &length) != 1 || length != KeyBytes.Length)
                {
                    throw new CryptographicException("X25519: EVP_PKEY_get_raw_public_key failed: " + LibCrypto.LastError());
                }
            }
        }
        finally
        {
            LibCrypto.FreeKey(pkey);
        }

        return WireGuardKey.FromBytes(publicKey);
    }

    /// <summary>The base64 form: reveals the key. Only for handing it to its owner.</summary>
    public string ToBase64() => Convert.ToBase64String(Bytes);

    /// <summary>The UAPI's hex form: reveals the key. Only for the UAPI socket.</summary>
    internal string ToHex() => Convert.ToHexStringLower(Bytes);

    /// <summary><c>(hidden)</c>, or <c>(none)</c> for the zero key: never the key.</summary>
    public override string ToString() => IsZero ? "(none)" : "(hidden)";

    /// <inheritdoc/>
    public bool Equals(WireGuardSecretKey other) =>
        CryptographicOperations.FixedTimeEquals(Bytes, other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WireGuardSecretKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => KeyBytes.Hash(_bytes);

    /// <summary>Equality by bytes (constant time).</summary>
    public static bool operator ==(WireGuardSecretKey left, WireGuardSecretKey right) => left.Equals(right);

    /// <summary>Inequality by bytes (constant time).</summary>
    public static bool operator !=(WireGuardSecretKey left, WireGuardSecretKey right) => !left.Equals(right);

    /// <summary>wg(8)'s <c>curve25519_clamp_secret</c>.</summary>
    private static void Clamp(Span<byte> key)
    {
        key[0] &= 248;
        key[31] = (byte)((key[31] & 127) | 64);
    }
}
