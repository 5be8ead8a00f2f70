using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aether.Netlink;

namespace Aether.Hub;

/// <summary>
/// What a client asks for when one more container joins a network (<see cref="IWireGuardHub.AttachAsync"/>): a veth
/// pair from the host (a name the hub picks, see <see cref="HubAttachmentInfo.HostInterface"/>) into the container,
/// with an address inside the network.
/// </summary>
public sealed record HubAttachRequest
{
    /// <summary>The attachment's identity in its network: 1 to 64 of <c>A-Z a-z 0-9 . _ -</c> (a Docker endpoint
    /// id, a CNI container id).</summary>
    public string? AttachmentId { get; init; }

    /// <summary>The container's network namespace: a name under <c>/run/netns</c>, or an absolute path such as
    /// <c>/proc/PID/ns/net</c>. Give this or <see cref="ContainerPid"/>.</summary>
    public string? Container { get; init; }

    /// <summary>The container's network namespace as a process id (its <c>/proc/PID/ns/net</c>).</summary>
    public int? ContainerPid { get; init; }

    /// <summary>The interface's name in the container; null: the lowest <c>ethK</c> not present there.</summary>
    public string? Interface { get; init; }

    /// <summary>The container's address in the network (a prefix length, if given, must be the network's or /32);
    /// null: the lowest free host address that is not the gateway.</summary>
    public string? Address { get; init; }

    /// <summary>Checks every field that can be checked without the network (the address's place in the network is
    /// checked by the hub) and returns the request normalised.</summary>
    /// <exception cref="HubException">Of kind <see cref="HubErrorKind.Invalid"/>, with every bad field.</exception>
    public HubAttachRequest Validate()
    {
        var errors = new List<HubFieldError>();
        void Bad(string field, string message) => errors.Add(new HubFieldError(field, message));
        var id = AttachmentId;
        if (string.IsNullOrEmpty(id))
        {
            Bad("attachmentId", "is required");
        }
        else if (id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            Bad("attachmentId", "must be 1 to 64 of A-Z a-z 0-9 . _ -");
        }

        var container = HubNetworkSpec.ParseContainer(Container, ContainerPid, required: true, Bad);
        if (Interface is not null && !Aether.Netlink.Names.InterfaceNameRule.IsValid(Interface, out var why))
        {
            Bad("interface", why);
        }

        IPAddress? address = null;
        int? prefixLength = null;
        if (Address is not null)
        {
            var text = Address;
            if (text.Contains('/', StringComparison.Ordinal))
            {
                if (!IPPrefix.TryParse(text, out var prefix, out _) || prefix.Family != AddressFamily.InterNetwork || text.Split('/')[0].Count(c => c == '.') != 3)
                {
                    Bad("address", "must be an IPv4 address, optionally with the network's prefix length");
                }
                else
                {
                    address = prefix.Address;
                    prefixLength = prefix.PrefixLength;
                }
            }
            else if (!IPAddress.TryParse(text, out address) || address.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
            {
                Bad("address", "must be an IPv4 address in dotted quad form (10.1.0.5)");
                address = null;
            }
        }

        if (errors.Count > 0)
        {
            throw HubException.Invalid(errors);
        }

        return new HubAttachRequest
        {
            AttachmentId = id,
            Container = ContainerPid is null ? container : null,
            ContainerPid = ContainerPid,
            Interface = Interface,
            Address = address?.ToString(),
            AddressPrefix = prefixLength,
        };
    }

    /// <summary>The container reference as the hub keys it: a name, an absolute path, or <c>pid:N</c>.</summary>
    internal string Reference => ContainerPid is int pid ? string.Create(CultureInfo.InvariantCulture, $"pid:{pid}") : Container!;

    /// <summary>The prefix length the address came with, if any (checked against the network by the hub).</summary>
    internal int? AddressPrefix { get; private init; }

    /// <summary>Whether a request given again asks for what <paramref name="accepted"/> (normalised, with the
    /// interface and address the hub chose) has: every field given is the same, and fields left out match any.</summary>
    internal bool Matches(HubAttachRequest accepted) =>
        string.Equals(AttachmentId, accepted.AttachmentId, StringComparison.Ordinal) && string.Equals(Reference, accepted.Reference, StringComparison.Ordinal)
        && (Interface is null || string.Equals(Interface, accepted.Interface, StringComparison.Ordinal))
        && (Address is null || string.Equals(Address, accepted.Address, StringComparison.Ordinal));
}

/// <summary>An attachment as a client sees it.</summary>
/// <param name="AttachmentId">Its id in the network.</param>
/// <param name="NetworkId">The network.</param>
/// <param name="Container">The container's namespace as given (a name, a path, or <c>pid:N</c>).</param>
/// <param name="HostInterface">The veth's end in the host namespace: <c>veth-rootN</c> for the network's own
/// container, <c>vethN-K</c> (K from 1, the lowest free in the network) for the others.</param>
/// <param name="Interface">The veth's end in the container.</param>
/// <param name="Address">The container's address.</param>
/// <param name="Gateway">The network's gateway (the address of every host end of the network).</param>
/// <param name="DefaultRoute">Whether this attachment carries the container's default route and the NAT masquerade:
/// the container had no default route of someone else's when it was attached, and this network is the first (lowest
/// index) of the container's attachments for which that holds.</param>
public sealed record HubAttachmentInfo(string AttachmentId, string NetworkId, string Container, string HostInterface, string Interface, string Address, string Gateway, bool DefaultRoute);

/// <summary>What <see cref="IWireGuardHub.AttachAsync"/> returns.</summary>
/// <param name="Attachment">The attachment.</param>
/// <param name="Created">False when the same attachment was there already.</param>
public sealed record HubAttachResult(HubAttachmentInfo Attachment, bool Created);

/// <summary>An attachment as the store keeps it: its network, the accepted request (interface and address filled
/// in) and the host end's name.</summary>
/// <param name="NetworkId">The network.</param>
/// <param name="Request">The request as accepted: normalised, with the interface and address the hub chose.</param>
/// <param name="HostInterface">The host end's name (<c>vethN-K</c>).</param>
/// <param name="DefaultRoute">False when the container had a default route not the hub's at attach time: the
/// attachment never takes the default route nor NAT (decided once, kept across restarts).</param>
public sealed record HubStoredAttachment(string NetworkId, HubAttachRequest Request, string HostInterface, bool DefaultRoute = true);
