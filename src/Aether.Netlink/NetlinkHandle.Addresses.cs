using System.Net.Sockets;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink;

/// <summary>Addresses: list, add, replace, delete.</summary>
public sealed partial class NetlinkHandle
{
    /// <summary>The addresses in the namespace, optionally of one family and (filtered by the kernel) one link.</summary>
    public Task<IReadOnlyList<Address>> ListAddressesAsync(AddressFamily family = AddressFamily.Unspecified, int index = 0, CancellationToken cancellationToken = default)
    {
        var af = FamilyByte(family);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return DumpAsync((af, index), RtnlRequests.DumpAddresses, RtnlRequests.ParseAddress, "list addresses", cancellationToken);
    }

    /// <summary>Adds an address; <c>EEXIST</c> when it is already there.</summary>
    public Task AddAddressAsync(AddressSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return ExecuteAsync(spec, RtnlRequests.AddAddress, "add address", RtnlRequests.AddressTarget(spec), cancellationToken);
    }

    /// <summary>Adds an address or updates it in place when it exists.</summary>
    public Task ReplaceAddressAsync(AddressSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return ExecuteAsync(spec, RtnlRequests.ReplaceAddress, "replace address", RtnlRequests.AddressTarget(spec), cancellationToken);
    }

    /// <summary>Deletes an address; <c>EADDRNOTAVAIL</c> when it is not there.</summary>
    public Task DeleteAddressAsync(AddressSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return ExecuteAsync(spec, RtnlRequests.DeleteAddress, "delete address", RtnlRequests.AddressTarget(spec), cancellationToken);
    }
}
