using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Aether.Netlink;

/// <summary>An address with a prefix length, as interfaces carry it: <c>10.0.0.1/30</c> (host bits may be set).</summary>
public readonly record struct IPPrefix
{
    /// <summary>Creates a prefix, checking the length against the family.</summary>
    /// <exception cref="ArgumentException">The length is outside 0..32 (IPv4) or 0..128 (IPv6), or the family is neither.</exception>
    public IPPrefix(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        var max = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"address '{address}' is neither IPv4 nor IPv6", nameof(address)),
        };
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new ArgumentException($"prefix length {prefixLength} of '{address}' is outside 0..{max}", nameof(prefixLength));
        }

        Address = address;
        PrefixLength = prefixLength;
    }

    /// <summary>The address.</summary>
    public IPAddress Address { get; }

    /// <summary>The prefix length in bits.</summary>
    public int PrefixLength { get; }

    /// <summary>The address family.</summary>
    public AddressFamily Family => Address.AddressFamily;

    /// <summary>The <c>AF_*</c> byte for rtnetlink headers.</summary>
    internal byte FamilyByte => Family == AddressFamily.InterNetwork ? Rtnl.AddressFamilies.Inet : Rtnl.AddressFamilies.Inet6;

    /// <summary>Parses <c>ADDRESS/LENGTH</c>, or a bare address as a host prefix.</summary>
    /// <exception cref="ArgumentException">The text is not a valid prefix; the message quotes it.</exception>
    public static IPPrefix Parse(string text) =>
        TryParse(text, out var prefix, out var error) ? prefix : throw new ArgumentException(error, nameof(text));

    /// <summary>Tries to parse <c>ADDRESS/LENGTH</c>.</summary>
    public static bool TryParse(string? text, out IPPrefix prefix) => TryParse(text, out prefix, out _);

    /// <summary>Tries to parse, saying what is wrong when it cannot.</summary>
    public static bool TryParse(string? text, out IPPrefix prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty prefix";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal))
        {
            error = $"invalid prefix '{text}': '{addressText}' is not an IP address";
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && addressText.AsSpan().Count('.') != 3)
        {
            // .NET reads "10.1" as 10.0.0.1, iproute2 as 10.1.0.0: refuse the short forms rather than guess.
            error = $"invalid prefix '{text}': write IPv4 addresses as four dotted numbers";
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
        {
            error = $"invalid prefix '{text}': length must be a number in 0..{max}";
            return false;
        }

        prefix = new IPPrefix(address, length);
        error = null;
        return true;
    }

    /// <summary>The network address (host bits cleared).</summary>
    public IPAddress Network
    {
        get
        {
            var bytes = Address.GetAddressBytes();
            for (var i = 0; i < bytes.Length; i++)
            {
                var bits = Math.Clamp(PrefixLength - (i * 8), 0, 8);
                bytes[i] &= (byte)(0xFF << (8 - bits));
            }

            return new IPAddress(bytes);
        }
    }

    /// <summary>Whether <paramref name="address"/> is inside this prefix (and of its family).</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == Family && new IPPrefix(address, PrefixLength).Network.Equals(Network);
    }

    /// <summary>Whether this prefix and <paramref name="other"/> share any address.</summary>
    public bool Overlaps(IPPrefix other) =>
        Family == other.Family && (PrefixLength <= other.PrefixLength ? Contains(other.Network) : other.Contains(Network));

    /// <inheritdoc/>
    public override string ToString() => Address is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");
}
