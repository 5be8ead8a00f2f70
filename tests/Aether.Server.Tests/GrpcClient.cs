using System.Net.Sockets;
using Aether.Server.Grpc.V1;
using Aether.WireGuard;
using Grpc.Core;
using Grpc.Net.Client;

namespace Aether.Server.Tests;

/// <summary>The client generated from the daemon's .proto, over its unix socket or loopback TCP.</summary>
internal static class GrpcClient
{
    private static readonly string HubKey = WireGuardSecretKey.GeneratePrivate().ToBase64();
    private static readonly string PeerKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();

    /// <summary>A channel over the unix socket at <paramref name="socket"/> (HTTP/2 with prior knowledge).</summary>
    public static GrpcChannel Unix(string socket) => GrpcChannel.ForAddress("http://aether", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        },
    });

    /// <summary>A channel over TCP to <paramref name="address"/>.</summary>
    public static GrpcChannel Tcp(Uri address) => GrpcChannel.ForAddress(address);

    /// <summary>The metadata carrying <paramref name="token"/>.</summary>
    public static Metadata Bearer(string token) => [new Metadata.Entry("authorization", "Bearer " + token)];

    /// <summary>A valid request (the twin of <see cref="Requests.Valid"/>).</summary>
    public static AddNetworkRequest Valid(string id = "net1", uint index = 1) => new()
    {
        NetworkId = id,
        NetworkIndex = index,
        Container = "aetcontainer",
        PrivateKey = HubKey,
        ListenPort = 51820 + index,
        PeerEndpoint = "192.0.2.2:51820",
        PeerPublicKey = PeerKey,
        IpAddress = $"10.{index}.0.2",
        NetworkCidr = $"10.{index}.0.0/24",
        Gateway = $"10.{index}.0.1",
    };

    /// <summary>The hub's public key for <see cref="Valid"/>'s private key.</summary>
    public static string HubPublicKey => WireGuardSecretKey.Parse(HubKey).GetPublicKey().ToString();

    /// <summary>The peer's public key of <see cref="Valid"/>.</summary>
    public static string PeerPublicKey => PeerKey;
}
