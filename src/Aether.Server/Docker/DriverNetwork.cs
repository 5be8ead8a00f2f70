using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Hub;
using Aether.Server.Store;

namespace Aether.Server.Docker;

/// <summary>A network of the driver in memory: its pool and its endpoints' addresses.</summary>
internal sealed class DriverNetwork(DockerNetworkRow row)
{
    /// <summary>The network.</summary>
    public IPNetwork Cidr { get; } = IPNetwork.Parse(row.Cidr);

    /// <summary>The gateway.</summary>
    public IPAddress Gateway { get; } = IPAddress.Parse(row.Gateway);

    /// <summary>Whether the driver allocates addresses.</summary>
    public bool Allocates { get; } = row.Allocates;

    /// <summary>The endpoints by docker id.</summary>
    public Dictionary<string, DockerEndpointRow> Endpoints { get; } = new(StringComparer.Ordinal);

    /// <summary>The lowest host address that is neither the gateway nor another endpoint's, with the prefix length.</summary>
    public string Allocate()
    {
        var used = Used();
        var first = ToUInt(Cidr.BaseAddress);
        var count = 1u << (32 - Cidr.PrefixLength);
        for (var offset = 1u; offset < count - 1; offset++)
        {
            var candidate = first + offset;
            if (!used.Contains(candidate))
            {
                return Format(candidate);
            }
        }

        throw new DriverException(HubErrorKind.Conflict, string.Create(CultureInfo.InvariantCulture, $"network {Cidr} has no free address: {Endpoints.Count} endpoints and the gateway use all {count - 2}"));
    }

    /// <summary>Checks an address docker's IPAM gave: inside the network, a host address, not the gateway nor taken.</summary>
    public string Check(string given)
    {
        var slash = given.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? given : given[..slash], out var address) || address.AddressFamily is not AddressFamily.InterNetwork)
        {
            throw DriverException.Invalid([$"Interface.Address: '{given}' is not an IPv4 address"]);
        }

        var value = ToUInt(address);
        var first = ToUInt(Cidr.BaseAddress);
        var count = 1u << (32 - Cidr.PrefixLength);
        if (!Cidr.Contains(address) || value == first || value == first + count - 1)
        {
            throw DriverException.Invalid([$"Interface.Address: {address} is not a host address of the network {Cidr}"]);
        }

        return Used().Contains(value)
            ? throw new DriverException(HubErrorKind.Conflict, $"Interface.Address: {address} is the gateway's or another endpoint's")
            : Format(value);
    }

    private HashSet<uint> Used()
    {
        var used = new HashSet<uint> { ToUInt(Gateway) };
        foreach (var endpoint in Endpoints.Values)
        {
            var slash = endpoint.Address.IndexOf('/', StringComparison.Ordinal);
            used.Add(ToUInt(IPAddress.Parse(slash < 0 ? endpoint.Address : endpoint.Address[..slash])));
        }

        return used;
    }

    private string Format(uint value) =>
        string.Create(CultureInfo.InvariantCulture, $"{new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value])}/{Cidr.PrefixLength}");

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }
}
