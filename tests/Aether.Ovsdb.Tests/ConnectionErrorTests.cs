using System.Net.Sockets;
using System.Security.Cryptography;
using Aether.Reconcile.Sources;

namespace Aether.Ovsdb.Tests;

/// <summary>What people read when ovsdb-server is not there: where the client looked, why, how to start it.</summary>
public sealed class ConnectionErrorTests : IDisposable
{
    private const string HowToStart = "start Open vSwitch (`/usr/share/openvswitch/scripts/ovs-ctl start`, or `systemctl start openvswitch-switch`) or give its socket with --ovsdb unix:PATH";

    private readonly string _directory = Directory.CreateTempSubdirectory("aet" + RandomNumberGenerator.GetHexString(5, lowercase: true) + "conn").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task No_socket_says_ENOENT_where_and_how_to_start_it()
    {
        var path = Path.Combine(_directory, "db.sock");
        var ex = await Assert.ThrowsAsync<OvsdbConnectionException>(() => OvsdbClient.ConnectAsync(OvsdbEndpoint.Unix(path)));
        Assert.Equal($"ovsdb-server is not running at {path} (ENOENT): {HowToStart}", ex.Message);
        Assert.Equal("ENOENT", ex.Errno);
        Assert.Equal(path, ex.Endpoint.SocketPath);
    }

    [Fact]
    public async Task A_socket_nobody_serves_says_ECONNREFUSED()
    {
        // A socket file nobody accepts on: bound, not listening (.NET unlinks a bound socket's file on close).
        var path = Path.Combine(_directory, "db.sock");
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(Path.Exists(path));
        var ex = await Assert.ThrowsAsync<OvsdbConnectionException>(() => OvsdbClient.ConnectAsync(OvsdbEndpoint.Unix(path)));
        Assert.Equal($"ovsdb-server is not running at {path} (ECONNREFUSED): {HowToStart}", ex.Message);
    }

    [Fact]
    public async Task A_source_whose_server_is_absent_fails_its_observe_with_the_same_message()
    {
        var path = Path.Combine(_directory, "db.sock");
        await using var source = new OvsBridgeSource(OvsdbEndpoint.Unix(path), "aet-owner", new DesiredOvsBridge("aetnone", []));
        var ex = await Assert.ThrowsAsync<OvsdbConnectionException>(() => source.RunPassAsync(CancellationToken.None));
        Assert.Equal($"ovsdb-server is not running at {path} (ENOENT): {HowToStart}", ex.Message);
    }

    [Theory]
    [InlineData("unix:/run/x/db.sock", "/run/x/db.sock")]
    [InlineData("/var/run/openvswitch/db.sock", "/var/run/openvswitch/db.sock")]
    public void Endpoints_parse_as_ovs_writes_them(string text, string path)
    {
        var endpoint = OvsdbEndpoint.Parse(text);
        Assert.Equal(path, endpoint.SocketPath);
        Assert.Equal("unix:" + path, endpoint.ToString());
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:6640")]
    [InlineData("unix:relative/db.sock")]
    [InlineData("db.sock")]
    public void Other_endpoints_are_refused_with_the_reason(string text) =>
        Assert.Throws<FormatException>(() => OvsdbEndpoint.Parse(text));
}
