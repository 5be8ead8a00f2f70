using Aether.Hub;
using Aether.Server.Grpc.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests;

/// <summary>Attach, Detach, the status's attachments, NAT and peer facts, nat_policy on AddNetwork and SetPeer's
/// keepalive through the generated client, on the daemon's app with a <see cref="FakeHub"/>: refusals are
/// <c>success = false</c> with their kind and fields, and an invalid request reaches no hub call.</summary>
public sealed class GrpcAttachTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-grpc-attach-").FullName;
    private readonly FakeHub _hub = new();

    private string Socket => Path.Combine(_dir, "aether.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WebApplication Build() => AetherServer.BuildApp(new ServerOptions
    {
        SocketPath = Socket,
        DatabasePath = Path.Combine(_dir, "aether.db"),
        Hub = (_, _) => Task.FromResult<IWireGuardHub>(_hub),
        Version = "grpc-test",
        ConfigureBuilder = b => b.Services.AddSingleton<IHubStore>(new InMemoryHubStore()),
    });

    [Fact]
    public async Task Attach_and_detach_map_to_the_hub_and_the_status_lists_every_container()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        var add = GrpcClient.Valid("blue", 1);
        add.NatPolicy = "require";
        Assert.True((await client.AddNetworkAsync(add)).Success);

        var attached = await client.AttachAsync(new AttachRequest { NetworkId = "blue", AttachmentId = "c1", Container = "aetother", Interface = "eth5", IpAddress = "10.1.0.9" });
        Assert.True(attached.Success, attached.Error);
        Assert.True(attached.Created);
        Assert.Equal(ErrorKind.Unspecified, attached.ErrorKind);
        Assert.Equal("c1", attached.Attachment.AttachmentId);
        Assert.Equal("aetother", attached.Attachment.Container);
        Assert.Equal("veth1-1", attached.Attachment.HostInterface);
        Assert.Equal("eth5", attached.Attachment.Interface);
        Assert.Equal("10.1.0.9", attached.Attachment.IpAddress);
        Assert.True(attached.Attachment.DefaultRoute);
        var again = await client.AttachAsync(new AttachRequest { NetworkId = "blue", AttachmentId = "c1", Container = "aetother", Interface = "eth5", IpAddress = "10.1.0.9" });
        Assert.True(again.Success, again.Error);
        Assert.False(again.Created);
        var byPid = await client.AttachAsync(new AttachRequest { NetworkId = "blue", AttachmentId = "c2", ContainerPid = 4242 });
        Assert.True(byPid.Success, byPid.Error);
        Assert.Equal("pid:4242", byPid.Attachment.Container);

        var status = await client.GetStatusAsync(new GetStatusRequest());
        var blue = status.Interfaces.Single();
        Assert.Equal(["10.1.0.2", "10.1.0.9", "10.99.0.2"], blue.IpAddresses);
        Assert.Equal(["c1", "c2"], blue.Attachments.Select(a => a.AttachmentId));
        Assert.Equal(["eth5", "eth0"], blue.Attachments.Select(a => a.Interface));
        Assert.Equal("require", blue.Nat.Policy);
        Assert.Equal("ok", blue.Nat.State);
        Assert.Equal("", blue.Nat.Error);
        var peer = status.Peers.Single();
        Assert.True(peer.Configured);
        Assert.True(peer.OnDevice);
        Assert.Equal("192.0.2.2:51820", peer.ConfiguredEndpoint);

        var detached = await client.DetachAsync(new DetachRequest { NetworkId = "blue", AttachmentId = "c1" });
        Assert.True(detached.Success, detached.Error);
        var gone = await client.DetachAsync(new DetachRequest { NetworkId = "blue", AttachmentId = "c1" });
        Assert.False(gone.Success);
        Assert.Equal(ErrorKind.NotFound, gone.ErrorKind);
        Assert.Contains("c1", gone.Error, StringComparison.Ordinal);
        Assert.Equal(["c2"], (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single().Attachments.Select(a => a.AttachmentId));
        Assert.Equal(["add blue", "attach blue c1", "attach blue c1", "attach blue c2", "detach blue c1", "detach blue c1"], _hub.Mutations);
    }

    public static TheoryData<string, string[]> InvalidAttaches() => new()
    {
        { "empty", ["network_id"] },
        { "bad network id", ["network_id"] },
        { "no attachment id and no container", ["attachment_id", "container"] },
        { "bad attachment id", ["attachment_id"] },
        { "container and pid", ["container"] },
        { "pid wider than int", ["container_pid"] },
        { "bad interface and address", ["interface", "ip_address"] },
    };

    private static AttachRequest InvalidAttach(string name)
    {
        var r = new AttachRequest { NetworkId = "blue", AttachmentId = "c1", Container = "aetother" };
        switch (name)
        {
            case "empty":
                return new AttachRequest();
            case "bad network id":
                r.NetworkId = "no spaces";
                break;
            case "no attachment id and no container":
                r.AttachmentId = "";
                r.Container = "";
                break;
            case "bad attachment id":
                r.AttachmentId = new string('a', 65);
                break;
            case "container and pid":
                r.ContainerPid = 7;
                break;
            case "pid wider than int":
                r.Container = "";
                r.ContainerPid = uint.MaxValue;
                break;
            case "bad interface and address":
                r.Interface = "this-name-is-far-too-long";
                r.IpAddress = "10.1.0.300";
                break;
        }

        return r;
    }

    [Theory]
    [MemberData(nameof(InvalidAttaches))]
    public async Task An_invalid_attach_names_its_fields_as_the_proto_does_and_reaches_nothing(string name, string[] fields)
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        Assert.True((await client.AddNetworkAsync(GrpcClient.Valid("blue", 1))).Success);

        var response = await client.AttachAsync(InvalidAttach(name));

        Assert.False(response.Success);
        Assert.Equal(ErrorKind.Invalid, response.ErrorKind);
        Assert.Null(response.Attachment);
        Assert.StartsWith("invalid request: ", response.Error, StringComparison.Ordinal);
        Assert.Equal(fields.Order(StringComparer.Ordinal), response.FieldErrors.Select(f => f.Field).Distinct().Order(StringComparer.Ordinal));
        foreach (var field in fields)
        {
            Assert.Contains(field + ": ", response.Error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("attachmentId", response.Error, StringComparison.Ordinal);
        if (name == "pid wider than int")
        {
            Assert.Contains(uint.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Error, StringComparison.Ordinal);
        }

        Assert.Equal(["add blue"], _hub.Mutations);
        Assert.Empty((await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single().Attachments);
    }

    [Fact]
    public async Task Refused_attaches_and_detaches_carry_their_kind_and_change_nothing()
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        Assert.True((await client.AddNetworkAsync(GrpcClient.Valid("blue", 1))).Success);
        Assert.True((await client.AttachAsync(new AttachRequest { NetworkId = "blue", AttachmentId = "c1", Container = "aetone" })).Success);

        var noNetwork = await client.AttachAsync(new AttachRequest { NetworkId = "nosuch", AttachmentId = "c1", Container = "aetone" });
        Assert.False(noNetwork.Success);
        Assert.Equal(ErrorKind.NotFound, noNetwork.ErrorKind);
        Assert.Contains("nosuch", noNetwork.Error, StringComparison.Ordinal);
        var conflict = await client.AttachAsync(new AttachRequest { NetworkId = "blue", AttachmentId = "c1", Container = "aettwo" });
        Assert.False(conflict.Success);
        Assert.Equal(ErrorKind.Conflict, conflict.ErrorKind);
        Assert.Contains("c1", conflict.Error, StringComparison.Ordinal);

        foreach (var (request, fields) in new (DetachRequest, string[])[]
        {
            (new DetachRequest(), ["attachment_id", "network_id"]),
            (new DetachRequest { NetworkId = "blue" }, ["attachment_id"]),
            (new DetachRequest { NetworkId = "bad id", AttachmentId = "c1" }, ["network_id"]),
            (new DetachRequest { NetworkId = "blue", AttachmentId = "c/1" }, ["attachment_id"]),
        })
        {
            var bad = await client.DetachAsync(request);
            Assert.False(bad.Success);
            Assert.Equal(ErrorKind.Invalid, bad.ErrorKind);
            Assert.Equal(fields, bad.FieldErrors.Select(f => f.Field).Order(StringComparer.Ordinal));
            Assert.All(fields, f => Assert.Contains(f + ": ", bad.Error, StringComparison.Ordinal));
        }

        var noSuchNetwork = await client.DetachAsync(new DetachRequest { NetworkId = "nosuch", AttachmentId = "c1" });
        Assert.Equal(ErrorKind.NotFound, noSuchNetwork.ErrorKind);

        Assert.Equal(["add blue", "attach blue c1", "attach nosuch c1", "attach blue c1", "detach nosuch c1"], _hub.Mutations);
        var still = (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single().Attachments.Single();
        Assert.Equal("aetone", still.Container);
    }

    [Theory]
    [InlineData("masquerade")]
    [InlineData("WARN")]
    [InlineData(" require")]
    public async Task A_bad_nat_policy_is_refused_by_name_and_adds_nothing(string policy)
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        var add = GrpcClient.Valid("blue", 1);
        add.NatPolicy = policy;

        var refused = await client.AddNetworkAsync(add);

        Assert.False(refused.Success);
        Assert.Equal(ErrorKind.Invalid, refused.ErrorKind);
        Assert.Equal("nat_policy", refused.FieldErrors.Single().Field);
        Assert.Contains("nat_policy: ", refused.Error, StringComparison.Ordinal);
        Assert.Contains("'warn'", refused.Error, StringComparison.Ordinal);
        Assert.Contains("'require'", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"not '{policy}'", refused.Error, StringComparison.Ordinal);
        Assert.Empty(_hub.Mutations);

        add.NatPolicy = "";
        Assert.True((await client.AddNetworkAsync(add)).Success);
        Assert.Equal("warn", (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single().Nat.Policy);
    }

    [Theory]
    [InlineData(2147483648u)]
    [InlineData(3000000000u)]
    [InlineData(uint.MaxValue)]
    public async Task An_overflowing_keepalive_is_reported_as_sent(uint keepalive)
    {
        await using var app = Build();
        await app.StartAsync();
        using var channel = GrpcClient.Unix(Socket);
        var client = new WireGuardService.WireGuardServiceClient(channel);
        Assert.True((await client.AddNetworkAsync(GrpcClient.Valid("blue", 1))).Success);
        var calls = _hub.Calls.Count;

        var bad = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "blue", PublicKey = "nokey", PersistentKeepalive = keepalive });

        Assert.False(bad.Success);
        Assert.Equal(ErrorKind.Invalid, bad.ErrorKind);
        Assert.Equal(["persistent_keepalive", "public_key"], bad.FieldErrors.Select(f => f.Field).Order(StringComparer.Ordinal));
        var message = bad.FieldErrors.Single(f => f.Field == "persistent_keepalive").Message;
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"must be 0 to 65535 seconds, not {keepalive}"), message);
        Assert.DoesNotContain("2147483647", bad.Error, StringComparison.Ordinal);
        Assert.Equal(calls, _hub.Calls.Count);
    }
}
