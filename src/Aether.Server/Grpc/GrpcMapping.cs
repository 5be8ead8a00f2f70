using System.Globalization;
using System.Text;
using Aether.Hub;
using Aether.Server.Grpc.V1;

namespace Aether.Server.Grpc;

/// <summary>
/// Between the .proto's messages and the hub's types. proto3 has no "missing" for scalars: an empty string is taken
/// as not given (so the hub says "is required"), <c>container_pid</c> 0 as not given; the numbers are unsigned on the
/// wire and are checked against <see cref="int"/> here, before the hub's own checks. Field names in errors are the
/// .proto's (<c>network_cidr</c>), not the REST API's (<c>networkCidr</c>).
/// </summary>
internal static class GrpcMapping
{
    /// <summary>The hub's request for <paramref name="request"/>, validated.</summary>
    /// <exception cref="HubException">Invalid, with every bad field (the hub's names).</exception>
    public static HubNetworkRequest ToHub(AddNetworkRequest request)
    {
        var wide = new List<HubFieldError>();
        int? Int(uint value, string field)
        {
            if (value <= int.MaxValue)
            {
                return (int)value;
            }

            wide.Add(new HubFieldError(field, string.Create(CultureInfo.InvariantCulture, $"is out of range: {value}")));
            return null;
        }

        var hubRequest = new HubNetworkRequest
        {
            NetworkId = Given(request.NetworkId),
            Index = Int(request.NetworkIndex, "index"),
            Container = Given(request.Container),
            ContainerPid = request.ContainerPid == 0 ? null : Int(request.ContainerPid, "containerPid"),
            PrivateKey = Given(request.PrivateKey),
            ListenPort = Int(request.ListenPort, "listenPort"),
            PeerEndpoint = Given(request.PeerEndpoint),
            PeerPublicKey = Given(request.PeerPublicKey),
            Address = Given(request.IpAddress),
            NetworkCidr = Given(request.NetworkCidr),
            Gateway = Given(request.Gateway),
            PersistentKeepalive = Int(request.PersistentKeepalive, "persistentKeepalive"),
            NatPolicy = Given(request.NatPolicy),
        };

        ValidateWith(wide, () => hubRequest.Validate());
        return hubRequest;
    }

    /// <summary>Runs the hub's <paramref name="validate"/>, and reports the numbers too wide for the hub
    /// (<paramref name="wide"/>, given to it as not given) with the others it finds.</summary>
    /// <exception cref="HubException">Invalid, with every bad field.</exception>
    private static void ValidateWith(List<HubFieldError> wide, Func<object> validate)
    {
        try
        {
            _ = validate();
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Invalid)
        {
            // A number too wide for the hub reads as missing there: its own message replaces "is required".
            throw HubException.Invalid([.. wide, .. e.Errors.Where(f => !wide.Exists(w => string.Equals(w.Field, f.Field, StringComparison.Ordinal)))]);
        }

        if (wide.Count > 0)
        {
            throw HubException.Invalid(wide);
        }
    }

    /// <summary>Checks a remove before anything is removed: the id as the hub's ids are; an index other than 0 must
    /// be the network's.</summary>
    /// <exception cref="HubException">Invalid.</exception>
    public static void CheckRemove(RemoveNetworkRequest request, IReadOnlyList<HubNetworkInfo> networks)
    {
        var id = request.NetworkId;
        CheckId(id);

        if (request.NetworkIndex != 0
            && networks.FirstOrDefault(n => string.Equals(n.NetworkId, id, StringComparison.Ordinal)) is { } network
            && network.Index != request.NetworkIndex)
        {
            throw HubException.Invalid([new HubFieldError(
                "index",
                string.Create(CultureInfo.InvariantCulture, $"network {id} has index {network.Index}, not {request.NetworkIndex} (0 leaves it unchecked)"))]);
        }
    }

    /// <summary>Checks a network id as the hub's ids are.</summary>
    /// <exception cref="HubException">Invalid.</exception>
    public static void CheckId(string id, string field = "networkId")
    {
        if (id.Length == 0)
        {
            throw HubException.Invalid([new HubFieldError(field, "is required")]);
        }

        if (id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw HubException.Invalid([new HubFieldError(field, "must be 1 to 64 of A-Z a-z 0-9 . _ -")]);
        }
    }

    /// <summary>The hub's peer for <paramref name="request"/>, validated (its network id too).</summary>
    /// <exception cref="HubException">Invalid, with every bad field.</exception>
    public static HubPeerRequest ToHub(SetPeerRequest request)
    {
        CheckId(request.NetworkId);
        var wide = new List<HubFieldError>();
        var keepalive = request.PersistentKeepalive;
        if (keepalive > int.MaxValue)
        {
            // Reported as sent, not as any int it could be cut to.
            wide.Add(new HubFieldError("persistentKeepalive", string.Create(CultureInfo.InvariantCulture, $"must be 0 to 65535 seconds, not {keepalive}")));
        }

        var peer = new HubPeerRequest
        {
            PublicKey = Given(request.PublicKey),
            Endpoint = Given(request.Endpoint),
            AllowedIps = [.. request.AllowedIps],
            PersistentKeepalive = keepalive <= int.MaxValue ? (int)keepalive : null,
            PresharedKey = Given(request.PresharedKey),
        };
        ValidateWith(wide, () => peer.Validate());
        return peer;
    }

    /// <summary>The hub's attach request for <paramref name="request"/>, validated (its network id too).</summary>
    /// <exception cref="HubException">Invalid, with every bad field.</exception>
    public static HubAttachRequest ToHub(AttachRequest request)
    {
        CheckId(request.NetworkId);
        var wide = new List<HubFieldError>();
        var pid = request.ContainerPid;
        if (pid > int.MaxValue)
        {
            wide.Add(new HubFieldError("containerPid", string.Create(CultureInfo.InvariantCulture, $"is out of range: {pid}")));
        }

        var attach = new HubAttachRequest
        {
            AttachmentId = Given(request.AttachmentId),
            Container = Given(request.Container),
            // A wide pid is refused above; it stands as given for the hub's checks (container and pid both given).
            ContainerPid = pid == 0 ? null : (int)Math.Min(pid, int.MaxValue),
            Interface = Given(request.Interface),
            Address = Given(request.IpAddress),
        };
        ValidateWith(wide, () => attach.Validate());
        return attach;
    }

    /// <summary>Checks a detach before anything is detached: both ids as the hub's ids are.</summary>
    /// <exception cref="HubException">Invalid, with both bad ids.</exception>
    public static void CheckDetach(DetachRequest request)
    {
        var errors = new List<HubFieldError>();
        foreach (var (id, field) in new[] { (request.NetworkId, "networkId"), (request.AttachmentId, "attachmentId") })
        {
            try
            {
                CheckId(id, field);
            }
            catch (HubException e) when (e.Kind == HubErrorKind.Invalid)
            {
                errors.AddRange(e.Errors);
            }
        }

        if (errors.Count > 0)
        {
            throw HubException.Invalid(errors);
        }
    }

    /// <summary>An attachment as the .proto's <c>AttachmentStatus</c>.</summary>
    public static AttachmentStatus Attachment(HubAttachmentInfo attachment) => new()
    {
        AttachmentId = attachment.AttachmentId,
        Container = attachment.Container,
        HostInterface = attachment.HostInterface,
        Interface = attachment.Interface,
        IpAddress = attachment.Address,
        DefaultRoute = attachment.DefaultRoute,
    };

    /// <summary>The one line for people: the hub's message, with the .proto's field names for an invalid request.</summary>
    public static string Message(HubException e) =>
        e.Kind == HubErrorKind.Invalid && e.Errors.Count > 0
            ? "invalid request: " + string.Join("; ", e.Errors.Select(f => ProtoField(f.Field) + ": " + ProtoNames(f.Message)))
            : ProtoNames(e.Message);

    /// <summary>The kind as the .proto's enum.</summary>
    public static ErrorKind Kind(HubException e) => e.Kind switch
    {
        HubErrorKind.Invalid => ErrorKind.Invalid,
        HubErrorKind.NotFound => ErrorKind.NotFound,
        HubErrorKind.Conflict => ErrorKind.Conflict,
        _ => ErrorKind.Failed,
    };

    /// <summary>The bad fields, named as in the .proto.</summary>
    public static IEnumerable<FieldError> FieldErrors(HubException e) =>
        e.Errors.Select(f => new FieldError { Field = ProtoField(f.Field), Message = ProtoNames(f.Message) });

    /// <summary>The hub's fields whose REST names may appear in its messages ("must be inside networkCidr").</summary>
    private static readonly string[] CamelFields =
        ["networkId", "networkCidr", "containerPid", "privateKey", "listenPort", "peerEndpoint", "peerPublicKey", "persistentKeepalive", "publicKey", "allowedIps", "presharedKey", "attachmentId", "natPolicy"];

    /// <summary><paramref name="message"/> with the REST names of fields replaced by the .proto's.</summary>
    private static string ProtoNames(string message)
    {
        foreach (var field in CamelFields)
        {
            message = message.Replace(field, ProtoField(field), StringComparison.Ordinal);
        }

        return message;
    }

    /// <summary>A network as the reference's <c>InterfaceStatus</c>, with Aether's fields.</summary>
    public static InterfaceStatus Interface(HubNetworkStatus status)
    {
        var network = status.Network;
        return new InterfaceStatus
        {
            NetworkId = network.NetworkId,
            Name = network.WgInterface,
            PublicKey = network.PublicKey,
            ListenPort = (uint)network.ListenPort,
            IpAddresses = { Addresses(network) },
            NetworkIndex = (uint)network.Index,
            Container = network.Container,
            EthInterface = network.EthInterface,
            NetworkCidr = network.NetworkCidr,
            Gateway = network.Gateway,
            DeviceUp = status.DeviceUp,
            DeviceListenPort = (uint)Math.Max(0, status.ListenPort),
            State = status.State,
            Error = status.Error ?? "",
            Attachments = { network.Attachments.Select(Attachment) },
            Nat = new NatStatus { Policy = status.Nat.Policy, State = status.Nat.State, Error = status.Nat.Error ?? "" },
        };
    }

    /// <summary>The addresses of a network's containers: its own first (none when it was created without one), then
    /// its attachments'.</summary>
    private static IEnumerable<string> Addresses(HubNetworkInfo network) =>
        (network.Address.Length == 0 ? [] : new[] { network.Address }).Concat(network.Attachments.Select(a => a.Address)).Distinct(StringComparer.Ordinal);

    /// <summary>A peer as the reference's <c>PeerStatus</c>.</summary>
    public static PeerStatus Peer(HubNetworkInfo network, HubPeerStatus peer) => new()
    {
        NetworkId = network.NetworkId,
        InterfaceName = network.WgInterface,
        PublicKey = peer.PublicKey,
        Endpoint = peer.Endpoint ?? "",
        AllowedIps = { peer.AllowedIps },
        LatestHandshake = peer.LatestHandshake is { } at ? (ulong)Math.Max(0, at.ToUnixTimeSeconds()) : 0,
        Stats = new TransferStats
        {
            BytesReceived = peer.ReceivedBytes,
            BytesSent = peer.SentBytes,
            PersistentKeepalive = (uint)Math.Max(0, peer.PersistentKeepalive),
        },
        Configured = peer.Configured,
        OnDevice = peer.OnDevice,
        ConfiguredEndpoint = peer.ConfiguredEndpoint ?? "",
    };

    /// <summary>The .proto's name of a field the hub names as REST does: <c>networkCidr</c> → <c>network_cidr</c>,
    /// and the two the reference names otherwise, <c>index</c> → <c>network_index</c>, <c>address</c> →
    /// <c>ip_address</c>.</summary>
    public static string ProtoField(string field)
    {
        switch (field)
        {
            case "index":
                return "network_index";
            case "address":
                return "ip_address";
        }

        var name = new StringBuilder(field.Length + 4);
        foreach (var c in field)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                name.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                name.Append(c);
            }
        }

        return name.ToString();
    }

    private static string? Given(string value) => value.Length == 0 ? null : value;
}
