using System.Net;
using System.Net.Http.Headers;
using Aether.Hub;
using Aether.Server.Grpc.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests;

/// <summary>The gRPC API through the client generated from its .proto, on the daemon's app on Kestrel (unix socket
/// and loopback TCP, in this process) with a <see cref="FakeHub"/>: every call, every kind of error, the token rule,
/// and REST over HTTP/1.1 on the same listeners.</summary>
public sealed class GrpcTests : IDisposable
{
    private const string Token = "grpc-token-of-at-least-32-bytes-long";
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-grpc-").FullName;
    private readonly FakeHub _hub = new();

    private string Socket => Path.Combine(_dir, "aether.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WebApplication Build(bool tcp = false)
    {
        var tokenFile = Path.Combine(_dir, "token");
        File.WriteAllText(tokenFile, Token + "\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return AetherServer.BuildApp(new ServerOptions
        {
            SocketPath = Socket,
            DatabasePath = Path.Combine(_dir, "aether.db"),
            Listen = tcp ? new Uri("http://127.0.0.1:0") : null,
            TokenFile = tcp ? tokenFile : null,
            Hub = (_, _) => Task.FromResult<IWireGuardHub>(_hub),
            Version = "grpc-test",
            ConfigureBuilder = b => b.Services.AddSingleton<IHubStore>(new InMemoryHubStore()),
        });
    }

    private static Uri TcpAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(a => a.StartsWith("http://127.", StringComparison.Ordinal)));

    [Fact]
    public async Task Every_call_over_the_unix_socket_and_rest_beside_it_over_http1()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);

        var empty = await client.GetStatusAsync(new GetStatusRequest());
        Assert.Equal("grpc-test", empty.Version);
        Assert.Equal(0u, empty.NetworkCount);
        Assert.Empty(empty.Interfaces);
        Assert.Empty(empty.Peers);

        var added = await client.AddNetworkAsync(GrpcClient.Valid("blue", 1));
        Assert.True(added.Success, added.Error);
        Assert.Equal("", added.Error);
        Assert.True(added.Created);
        Assert.Equal(1u, added.TotalNetworks);
        Assert.Equal("wg1", added.WgInterface);
        Assert.Equal("eth1", added.EthInterface);
        Assert.Equal(GrpcClient.HubPublicKey, added.PublicKey);
        Assert.Equal(ErrorKind.Unspecified, added.ErrorKind);

        var again = await client.AddNetworkAsync(GrpcClient.Valid("blue", 1));
        Assert.True(again.Success, again.Error);
        Assert.False(again.Created);
        Assert.Equal(1u, again.TotalNetworks);

        var second = GrpcClient.Valid("red", 2);
        second.PersistentKeepalive = 25;
        Assert.True((await client.AddNetworkAsync(second)).Success);

        var status = await client.GetStatusAsync(new GetStatusRequest());
        Assert.Equal("grpc-test", status.Version);
        Assert.Equal("userspace", status.Backend);
        Assert.Equal(2u, status.NetworkCount);
        Assert.Equal(["blue", "red"], status.Interfaces.Select(i => i.NetworkId));
        var blue = status.Interfaces[0];
        Assert.Equal("wg1", blue.Name);
        Assert.Equal(GrpcClient.HubPublicKey, blue.PublicKey);
        Assert.Equal(51821u, blue.ListenPort);
        Assert.Equal(["10.1.0.2"], blue.IpAddresses);
        Assert.Equal(1u, blue.NetworkIndex);
        Assert.Equal("eth1", blue.EthInterface);
        Assert.Equal("10.1.0.0/24", blue.NetworkCidr);
        Assert.Equal("10.1.0.1", blue.Gateway);
        Assert.True(blue.DeviceUp);
        Assert.Equal("active", blue.State);
        Assert.Equal(2, status.Peers.Count);
        var redPeer = status.Peers[1];
        Assert.Equal("red", redPeer.NetworkId);
        Assert.Equal("wg2", redPeer.InterfaceName);
        Assert.Equal(GrpcClient.PeerPublicKey, redPeer.PublicKey);
        Assert.Equal("192.0.2.2:51820", redPeer.Endpoint);
        Assert.Equal(["10.2.0.0/24"], redPeer.AllowedIps);
        Assert.Equal(0ul, redPeer.LatestHandshake);
        Assert.Equal(25u, redPeer.Stats.PersistentKeepalive);

        // REST on the same socket, over HTTP/1.1 exactly, sees what gRPC made.
        using var rest = Unix.Client(Socket);
        using var list = new HttpRequestMessage(HttpMethod.Get, "/v1/hub/networks") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var listed = await rest.SendAsync(list);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(HttpVersion.Version11, listed.Version);
        Assert.Equal(["blue", "red"], (await Requests.ReadAsync(listed)).EnumerateArray().Select(n => n.GetProperty("networkId").GetString()));

        var removed = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "blue", NetworkIndex = 1 });
        Assert.True(removed.Success, removed.Error);
        Assert.Equal(1u, removed.RemainingNetworks);
        var removedNoIndex = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "red" });
        Assert.True(removedNoIndex.Success, removedNoIndex.Error);
        Assert.Equal(0u, removedNoIndex.RemainingNetworks);
        Assert.Equal(["add blue", "add blue", "add red", "remove blue", "remove red"], _hub.Mutations);
    }

    public static TheoryData<string, string[]> InvalidRequests() => new()
    {
        { "empty", ["network_id", "private_key", "listen_port", "network_cidr"] },
        { "bad id", ["network_id"] },
        { "index too large", ["network_index"] },
        { "index wider than int", ["network_index"] },
        { "cidr with host bits and gateway outside", ["network_cidr"] },
        { "keys and endpoint", ["private_key", "peer_public_key", "peer_endpoint"] },
        { "both container and pid", ["container"] },
        { "keepalive", ["persistent_keepalive"] },
        { "address outside", ["ip_address"] },
    };

    private static AddNetworkRequest Invalid(string name)
    {
        var r = GrpcClient.Valid("bad", 3);
        switch (name)
        {
            case "empty":
                return new AddNetworkRequest();
            case "bad id":
                r.NetworkId = "no spaces allowed";
                break;
            case "index too large":
                r.NetworkIndex = 10000;
                break;
            case "index wider than int":
                r.NetworkIndex = uint.MaxValue;
                break;
            case "cidr with host bits and gateway outside":
                r.NetworkCidr = "10.3.0.1/24";
                break;
            case "keys and endpoint":
                r.PrivateKey = "not-a-key";
                r.PeerPublicKey = "AAAA";
                r.PeerEndpoint = "192.0.2.2";
                break;
            case "both container and pid":
                r.ContainerPid = 1;
                break;
            case "keepalive":
                r.PersistentKeepalive = 70000;
                break;
            case "address outside":
                r.IpAddress = "10.9.0.2";
                break;
        }

        return r;
    }

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task An_invalid_add_names_its_fields_as_the_proto_does_and_reaches_nothing(string name, string[] fields)
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);

        var response = await client.AddNetworkAsync(Invalid(name));

        Assert.False(response.Success);
        Assert.Equal(ErrorKind.Invalid, response.ErrorKind);
        Assert.StartsWith("invalid request: ", response.Error, StringComparison.Ordinal);
        foreach (var field in fields)
        {
            Assert.Contains(field, response.FieldErrors.Select(f => f.Field));
            Assert.Contains(field + ": ", response.Error, StringComparison.Ordinal);
        }

        Assert.All(response.FieldErrors, f => Assert.False(string.IsNullOrWhiteSpace(f.Message)));
        Assert.DoesNotContain("networkCidr", response.Error, StringComparison.Ordinal);
        Assert.Equal("", response.WgInterface);
        Assert.Equal(0u, response.TotalNetworks);
        Assert.Empty(_hub.Mutations);
        Assert.Equal(0u, (await client.GetStatusAsync(new GetStatusRequest())).NetworkCount);
    }

    [Fact]
    public async Task Refusals_and_failures_of_the_hub_are_success_false_with_their_kind()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        Assert.True((await client.AddNetworkAsync(GrpcClient.Valid("blue", 1))).Success);

        var unknown = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "nosuch" });
        Assert.False(unknown.Success);
        Assert.Equal(ErrorKind.NotFound, unknown.ErrorKind);
        Assert.Contains("nosuch", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(1u, unknown.RemainingNetworks);

        foreach (var (id, field) in new[] { ("", "network_id"), ("bad id", "network_id"), (new string('x', 65), "network_id") })
        {
            var bad = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = id });
            Assert.False(bad.Success);
            Assert.Equal(ErrorKind.Invalid, bad.ErrorKind);
            Assert.Equal(field, bad.FieldErrors.Single().Field);
        }

        var wrongIndex = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "blue", NetworkIndex = 7 });
        Assert.False(wrongIndex.Success);
        Assert.Equal(ErrorKind.Invalid, wrongIndex.ErrorKind);
        Assert.Equal("network_index", wrongIndex.FieldErrors.Single().Field);
        Assert.Contains("has index 1, not 7", wrongIndex.Error, StringComparison.Ordinal);

        var other = GrpcClient.Valid("blue", 1);
        other.ListenPort = 40000;
        var conflict = await client.AddNetworkAsync(other);
        Assert.False(conflict.Success);
        Assert.Equal(ErrorKind.Conflict, conflict.ErrorKind);
        Assert.Contains("blue", conflict.Error, StringComparison.Ordinal);
        var sameIndex = await client.AddNetworkAsync(GrpcClient.Valid("green", 1));
        Assert.Equal(ErrorKind.Conflict, sameIndex.ErrorKind);

        _hub.FailStep = "links in the host";
        var failed = await client.AddNetworkAsync(GrpcClient.Valid("red", 2));
        Assert.False(failed.Success);
        Assert.Equal(ErrorKind.Failed, failed.ErrorKind);
        Assert.Contains("links in the host: EPERM (Operation not permitted)", failed.Error, StringComparison.Ordinal);
        Assert.Equal(1u, failed.TotalNetworks);

        // Only the valid requests reached the hub; the wrong index removed nothing.
        Assert.Equal(["add blue", "remove nosuch", "add blue", "add green", "add red"], _hub.Mutations);
        Assert.Equal(["blue"], (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Select(i => i.NetworkId));
    }

    [Fact]
    public async Task Peers_are_set_and_removed_one_at_a_time_and_bad_ones_reach_nothing()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        Assert.True((await client.AddNetworkAsync(GrpcClient.Valid("blue", 1))).Success);
        var key = Aether.WireGuard.WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
        var calls = _hub.Calls.Count;

        foreach (var (request, field) in new (SetPeerRequest, string)[]
        {
            (new SetPeerRequest { NetworkId = "blue" }, "public_key"),
            (new SetPeerRequest { NetworkId = "blue", PublicKey = "nokey" }, "public_key"),
            (new SetPeerRequest { NetworkId = "blue", PublicKey = key, Endpoint = "nowhere" }, "endpoint"),
            (new SetPeerRequest { NetworkId = "blue", PublicKey = key, AllowedIps = { "10.9.0.0/33" } }, "allowed_ips"),
            (new SetPeerRequest { NetworkId = "blue", PublicKey = key, PersistentKeepalive = 70000 }, "persistent_keepalive"),
            (new SetPeerRequest { NetworkId = "blue", PublicKey = key, PresharedKey = "short" }, "preshared_key"),
            (new SetPeerRequest { NetworkId = "", PublicKey = key }, "network_id"),
        })
        {
            var bad = await client.SetPeerAsync(request);
            Assert.False(bad.Success);
            Assert.Equal(ErrorKind.Invalid, bad.ErrorKind);
            Assert.Contains(field, bad.FieldErrors.Select(f => f.Field));
            Assert.Contains(field + ":", bad.Error, StringComparison.Ordinal);
        }

        Assert.Equal(calls, _hub.Calls.Count);

        var unknown = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "nosuch", PublicKey = key });
        Assert.Equal(ErrorKind.NotFound, unknown.ErrorKind);

        var added = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "blue", PublicKey = key, Endpoint = "192.0.2.9:51820", AllowedIps = { "10.9.0.0/24" }, PersistentKeepalive = 15 });
        Assert.True(added.Success, added.Error);
        Assert.True(added.Created);
        Assert.Equal(key, added.PublicKey);
        Assert.Equal(["10.9.0.0/24"], added.AllowedIps);
        Assert.Equal(15u, added.PersistentKeepalive);
        Assert.False(added.HasPresharedKey);
        var updated = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "blue", PublicKey = key, AllowedIps = { "10.9.0.0/24" } });
        Assert.True(updated.Success, updated.Error);
        Assert.False(updated.Created);
        Assert.Equal("", updated.Endpoint);

        var removed = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "blue", PublicKey = key });
        Assert.True(removed.Success, removed.Error);
        var again = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "blue", PublicKey = key });
        Assert.False(again.Success);
        Assert.Equal(ErrorKind.NotFound, again.ErrorKind);
        var notKey = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "blue", PublicKey = "nokey" });
        Assert.Equal(ErrorKind.Invalid, notKey.ErrorKind);
        var badId = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "bad id", PublicKey = key });
        Assert.Equal("network_id", badId.FieldErrors.Single().Field);
        Assert.Equal(["peer set nosuch", "peer set blue", "peer set blue", "peer remove blue", "peer remove blue"], _hub.Calls.Where(c => c.StartsWith("peer", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Tcp_calls_need_the_token_the_socket_needs_none_and_rest_keeps_http1()
    {
        await using var app = Build(tcp: true);
        await app.StartAsync();
        var address = TcpAddress(app);
        using var channel = GrpcClient.Tcp(address);
        var client = new WireGuardService.WireGuardServiceClient(channel);

        var before = _hub.Calls.Count;
        var none = await Assert.ThrowsAsync<RpcException>(() => client.AddNetworkAsync(GrpcClient.Valid()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("Authorization: Bearer TOKEN", none.Status.Detail, StringComparison.Ordinal);
        foreach (var token in new[] { "grpc-token-of-at-least-32-bytes-lonG", "", "x", Token + "x" })
        {
            var wrong = await Assert.ThrowsAsync<RpcException>(() => client.AddNetworkAsync(GrpcClient.Valid(), GrpcClient.Bearer(token)).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        }

        var wrongStatus = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest(), GrpcClient.Bearer(Token[..^1] + "X")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrongStatus.StatusCode);
        Assert.Contains("not the daemon's", wrongStatus.Status.Detail, StringComparison.Ordinal);
        var removeRefused = await Assert.ThrowsAsync<RpcException>(() => client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "net1" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, removeRefused.StatusCode);
        Assert.Equal(before, _hub.Calls.Count); // not even a read reached the hub

        var added = await client.AddNetworkAsync(GrpcClient.Valid(), GrpcClient.Bearer(Token));
        Assert.True(added.Success, added.Error);
        Assert.Equal(1u, (await client.GetStatusAsync(new GetStatusRequest(), GrpcClient.Bearer(Token))).NetworkCount);

        // REST over HTTP/1.1 on the same TCP listener, with and without the token.
        using var rest = new HttpClient { BaseAddress = address };
        using (var refused = await rest.GetAsync("/v1/hub/networks"))
        {
            await Requests.ProblemAsync(refused, 401);
            Assert.Equal(HttpVersion.Version11, refused.Version);
        }

        using var list = new HttpRequestMessage(HttpMethod.Get, "/v1/hub/networks") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var listed = await rest.SendAsync(list);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(HttpVersion.Version11, listed.Version);
        Assert.Equal("net1", (await Requests.ReadAsync(listed)).EnumerateArray().Single().GetProperty("networkId").GetString());

        // The socket needs no token.
        using var unix = GrpcClient.Unix(Socket);
        var removed = await new WireGuardService.WireGuardServiceClient(unix).RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "net1", NetworkIndex = 1 });
        Assert.True(removed.Success, removed.Error);
        Assert.Equal(["add net1", "remove net1"], _hub.Mutations);
    }

    [Fact]
    public async Task A_message_over_the_limit_and_an_unknown_method_end_before_the_hub()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);

        var large = GrpcClient.Valid();
        large.NetworkId = new string('a', 70 * 1024);
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => client.AddNetworkAsync(large).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);

        var method = new Method<GetStatusRequest, GetStatusResponse>(
            MethodType.Unary, "aether.wireguard.v1.WireGuardService", "NoSuchMethod", Marshallers.Create((GetStatusRequest r) => Google.Protobuf.MessageExtensions.ToByteArray(r), GetStatusRequest.Parser.ParseFrom), Marshallers.Create((GetStatusResponse r) => Google.Protobuf.MessageExtensions.ToByteArray(r), GetStatusResponse.Parser.ParseFrom));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(method, null, default, new GetStatusRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        var otherService = new Method<GetStatusRequest, GetStatusResponse>(
            MethodType.Unary, "aether.nosuch.v1.Service", "GetStatus", method.RequestMarshaller, method.ResponseMarshaller);
        var unknownService = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(otherService, null, default, new GetStatusRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, unknownService.StatusCode);
        Assert.Empty(_hub.Mutations);
    }
}
