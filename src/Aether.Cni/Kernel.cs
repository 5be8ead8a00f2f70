using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Cni;

/// <summary>What the container's namespace holds for one interface, read over netlink inside it.</summary>
/// <param name="Mac">The interface's hardware address.</param>
/// <param name="IsUp">Whether it is administratively up.</param>
/// <param name="Addresses">Its addresses.</param>
internal sealed record ContainerInterface(string? Mac, bool IsUp, IReadOnlyList<IPPrefix> Addresses);

/// <summary>Reads the container side: the plugin's only look into the kernel (the daemon makes every change).</summary>
internal static class Kernel
{
    /// <summary>The interface <paramref name="ifName"/> in the namespace at <paramref name="netns"/>, or null when
    /// it is not there.</summary>
    /// <exception cref="CniException">Code 3 when the namespace cannot be opened.</exception>
    public static async Task<ContainerInterface?> ReadAsync(string netns, string ifName, CancellationToken ct)
    {
        NetworkNamespace ns;
        try
        {
            ns = NetworkNamespace.OpenVerified(netns);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniCodes.UnknownContainer, $"CNI_NETNS {netns}: cannot open the container's network namespace: {e.Message}");
        }

        using (ns)
        {
            using var handle = NetlinkHandle.OpenAt(ns);
            var link = await handle.FindLinkAsync(ifName, ct).ConfigureAwait(false);
            if (link is null)
            {
                return null;
            }

            var addresses = await handle.ListAddressesAsync(AddressFamily.Unspecified, link.Index, ct).ConfigureAwait(false);
            return new ContainerInterface(link.MacAddress, link.IsUp, [.. addresses.Where(a => a.Index == link.Index).Select(a => a.Prefix)]);
        }
    }
}
