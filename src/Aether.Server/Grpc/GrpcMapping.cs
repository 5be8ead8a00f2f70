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
        };

        try
        {
            _ = hubRequest.Validate();
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Invalid)
        {
            // A number too wide for the hub reads as missing there: its own message replaces "is required".
            throw HubException.Invalid([.. wide, .. e.Errors.Where(f => !wide.Exists(w => string.Equals(w.Field, f.Field, StringComparison.Ordinal)))]);
        }

        return wide.Count == 0 ? hubRequest : throw HubException.Invalid(wide);
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
    public static void CheckId(string id)
    {
        if (id.Length == 0)
        {
            throw HubException.Invalid([new HubFieldError("networkId", "is required")]);
        }

        if (id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw HubException.Invalid([new HubFieldError("networkId", "must be 1 to 64 of A-Z a-z 0-9 . _ -")]);
        }
    }

    /// <summary>The hub's peer for <paramref name="request"/>, validated (its network id too).</summary>
    /// <exception cref="HubException">Invalid, with every bad field.</exception>
    public static HubPeerRequest ToHub(SetPeerRequest request)
    {
        CheckId(request.NetworkId);
        var peer = new HubPeerRequest
        {
            PublicKey = Given(request.PublicKey),
            Endpoint = Given(request.Endpoint),
            AllowedIps = [.. request.AllowedIps],
            PersistentKeepalive = request.PersistentKeepalive <= int.MaxValue ? (int)request.PersistentKeepalive : int.MaxValue,
            PresharedKey = Given(request.PresharedKey),
        };
        _ = peer.Validate();
        return peer;
    }

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
        ["networkId", "networkCidr", "containerPid", "privateKey", "listenPort", "peerEndpoint", "peerPublicKey", "persistentKeepalive", "publicKey", "allowedIps", "presharedKey"];

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
            IpAddresses = { network.Address },
            NetworkIndex = (uint)network.Index,
            Container = network.Container,
            EthInterface = network.EthInterface,
            NetworkCidr = network.NetworkCidr,
            Gateway = network.Gateway,
            DeviceUp = status.DeviceUp,
            DeviceListenPort = (uint)Math.Max(0, status.ListenPort),
            State = status.State,
            Error = status.Error ?? "",
        };
    }

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
