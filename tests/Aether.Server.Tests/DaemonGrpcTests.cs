using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aether.Netlink.Namespaces;
using Aether.Server.Grpc.V1;
using Aether.WireGuard;
using Grpc.Core;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The real daemon (<c>aether serve</c>, its real hub in a host namespace of this test) driven through the client
/// generated from the .proto: AddNetwork makes wgN, veth-rootN and ethN in a real container namespace, GetStatus
/// reports them and the peer, RemoveNetwork removes them; refused calls change nothing (the oracle is <c>ip -j</c>).
/// The daemon listens on its unix socket and on loopback TCP with a token: gRPC works on both, and REST beside it.
/// </summary>
public sealed class DaemonGrpcTests : SandboxTest
{
    private const string Token = "daemon-grpc-token-of-at-least-32-bytes";
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-daemon-grpc-").FullName;
    private readonly WireGuardSecretKey _key = WireGuardSecretKey.GeneratePrivate();
    private readonly WireGuardKey _peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
    private NetworkNamespace _host = null!;
    private string _container = null!;
    private string _other = null!;

    [Fact]
    public async Task Add_status_and_remove_through_the_generated_client_make_and_remove_real_links()
    {
        var socket = Path.Combine(_dir, "aether.sock");
        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, Token + "\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var port = FreePort();
        var prefix = Box.Name("g");
        using var daemon = await StartDaemonAsync(socket, "--listen", $"http://127.0.0.1:{port}", "--token-file", tokenFile, "--wireguard-prefix", prefix);
        try
        {
            using var unix = GrpcClient.Unix(socket);
            var client = new WireGuardService.WireGuardServiceClient(unix);
            var hostLinks = await Ip.LinkNamesAsync(_host.Name);
            var containerLinks = await Ip.LinkNamesAsync(_container);

            // Refused: invalid fields, an unknown container; nothing appears in either namespace.
            var invalid = Request();
            invalid.NetworkCidr = "10.211.0.5/24";
            invalid.PeerPublicKey = "short";
            var refused = await client.AddNetworkAsync(invalid);
            Assert.False(refused.Success);
            Assert.Equal(ErrorKind.Invalid, refused.ErrorKind);
            Assert.Equal(["network_cidr", "peer_public_key"], refused.FieldErrors.Select(f => f.Field).Order(StringComparer.Ordinal));
            var nowhere = Request();
            nowhere.Container = Box.Name("nosuch");
            var missing = await client.AddNetworkAsync(nowhere);
            Assert.False(missing.Success);
            Assert.Contains("container", missing.Error, StringComparison.Ordinal);
            Assert.Equal(hostLinks, await Ip.LinkNamesAsync(_host.Name));
            Assert.Equal(containerLinks, await Ip.LinkNamesAsync(_container));

            var added = await client.AddNetworkAsync(Request());
            Assert.True(added.Success, added.Error);
            Assert.True(added.Created);
            Assert.Equal(1u, added.TotalNetworks);
            Assert.Equal(prefix + "0", added.WgInterface);
            Assert.Equal("eth0", added.EthInterface);
            Assert.Equal(_key.GetPublicKey().ToString(), added.PublicKey);

            // The kernel's view, not the daemon's.
            Assert.NotNull(await Ip.LinkAsync(_host.Name, prefix + "0"));
            Assert.NotNull(await Ip.LinkAsync(_host.Name, "veth-root0"));
            var eth0 = await Ip.JsonAsync(_container, "addr", "show", "dev", "eth0");
            Assert.Contains(eth0.Single().GetProperty("addr_info").EnumerateArray(), a => a.GetProperty("local").GetString() == "10.211.0.2");
            var routes = await Ip.JsonAsync(_container, "route", "show", "default");
            Assert.Equal("10.211.0.1", routes.Single().GetProperty("gateway").GetString());

            var status = await client.GetStatusAsync(new GetStatusRequest());
            Assert.Equal(1u, status.NetworkCount);
            var network = status.Interfaces.Single();
            Assert.Equal("grpc", network.NetworkId);
            Assert.Equal(prefix + "0", network.Name);
            Assert.Equal(51831u, network.ListenPort);
            Assert.Equal(["10.211.0.2"], network.IpAddresses);
            Assert.True(network.DeviceUp, network.Error);
            Assert.Equal(51831u, network.DeviceListenPort);
            var peer = status.Peers.Single();
            Assert.Equal(_peer.ToString(), peer.PublicKey);
            Assert.Equal(prefix + "0", peer.InterfaceName);
            Assert.Equal("192.0.2.7:51820", peer.Endpoint);
            Assert.Equal(["10.211.0.0/24"], peer.AllowedIps);
            Assert.Equal(25u, peer.Stats.PersistentKeepalive);

            // Peers one at a time, read back from the device with wg(8).
            var device = prefix + "0";
            var second = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
            var overlapping = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "grpc", PublicKey = second, AllowedIps = { "10.211.0.0/25" } });
            Assert.False(overlapping.Success);
            Assert.Equal(ErrorKind.Invalid, overlapping.ErrorKind);
            Assert.Equal([_peer.ToString()], await WgAsync(device, "peers"));
            var set = await client.SetPeerAsync(new SetPeerRequest { NetworkId = "grpc", PublicKey = second, Endpoint = "192.0.2.9:51820", AllowedIps = { "10.99.0.0/24" } });
            Assert.True(set.Success, set.Error);
            Assert.True(set.Created);
            Assert.Contains(second + "\t10.99.0.0/24", await WgAsync(device, "allowed-ips"));
            Assert.Equal(2, (await WgAsync(device, "peers")).Length);
            var gone = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "grpc", PublicKey = second });
            Assert.True(gone.Success, gone.Error);
            Assert.Equal([_peer.ToString()], await WgAsync(device, "peers"));
            var again = await client.RemovePeerAsync(new RemovePeerRequest { NetworkId = "grpc", PublicKey = second });
            Assert.Equal(ErrorKind.NotFound, again.ErrorKind);

            // A second container attached and detached: the kernel's view in both namespaces.
            var otherLinks = await Ip.LinkNamesAsync(_other);
            var refusedAttach = await client.AttachAsync(new AttachRequest { NetworkId = "grpc", AttachmentId = "c2", Container = _other, IpAddress = "10.212.0.5" });
            Assert.False(refusedAttach.Success);
            Assert.Equal(ErrorKind.Invalid, refusedAttach.ErrorKind);
            Assert.Contains("ip_address", refusedAttach.Error, StringComparison.Ordinal);
            Assert.Equal(otherLinks, await Ip.LinkNamesAsync(_other));
            var attached = await client.AttachAsync(new AttachRequest { NetworkId = "grpc", AttachmentId = "c2", Container = _other, IpAddress = "10.211.0.5" });
            Assert.True(attached.Success, attached.Error);
            Assert.True(attached.Created);
            Assert.Equal("veth0-1", attached.Attachment.HostInterface);
            Assert.Equal("eth0", attached.Attachment.Interface);
            Assert.True(attached.Attachment.DefaultRoute);
            Assert.NotNull(await Ip.LinkAsync(_host.Name, "veth0-1"));
            var otherEth = await Ip.JsonAsync(_other, "addr", "show", "dev", "eth0");
            Assert.Contains(otherEth.Single().GetProperty("addr_info").EnumerateArray(), a => a.GetProperty("local").GetString() == "10.211.0.5");
            Assert.Equal("10.211.0.1", (await Ip.JsonAsync(_other, "route", "show", "default")).Single().GetProperty("gateway").GetString());
            var withTwo = (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single();
            Assert.Equal(["10.211.0.2", "10.211.0.5"], withTwo.IpAddresses);
            Assert.Equal(["grpc", "c2"], withTwo.Attachments.Select(a => a.AttachmentId));
            Assert.Equal(["veth-root0", "veth0-1"], withTwo.Attachments.Select(a => a.HostInterface));
            Assert.Equal(_other, withTwo.Attachments[1].Container);
            Assert.Equal("require", withTwo.Nat.Policy);
            Assert.True(withTwo.Nat.State == "ok", withTwo.Nat.Error);
            Assert.Equal(_peer.ToString(), (await client.GetStatusAsync(new GetStatusRequest())).Peers.Single(p => p.Configured && p.OnDevice).PublicKey);
            var detached = await client.DetachAsync(new DetachRequest { NetworkId = "grpc", AttachmentId = "c2" });
            Assert.True(detached.Success, detached.Error);
            Assert.Null(await Ip.LinkAsync(_host.Name, "veth0-1"));
            Assert.Null(await Ip.LinkAsync(_other, "eth0"));
            Assert.NotNull(await Ip.LinkAsync(_container, "eth0"));
            var detachedAgain = await client.DetachAsync(new DetachRequest { NetworkId = "grpc", AttachmentId = "c2" });
            Assert.Equal(ErrorKind.NotFound, detachedAgain.ErrorKind);
            Assert.Equal(["10.211.0.2"], (await client.GetStatusAsync(new GetStatusRequest())).Interfaces.Single().IpAddresses);

            // TCP: the same API, with the token only.
            using var tcp = GrpcClient.Tcp(new Uri($"http://127.0.0.1:{port}"));
            var overTcp = new WireGuardService.WireGuardServiceClient(tcp);
            var noToken = await Assert.ThrowsAsync<RpcException>(() => overTcp.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "grpc" }).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, noToken.StatusCode);
            var wrongToken = await Assert.ThrowsAsync<RpcException>(() => overTcp.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "grpc" }, GrpcClient.Bearer(Token + "-no")).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, wrongToken.StatusCode);
            Assert.NotNull(await Ip.LinkAsync(_host.Name, prefix + "0"));
            Assert.Equal(1u, (await overTcp.GetStatusAsync(new GetStatusRequest(), GrpcClient.Bearer(Token))).NetworkCount);

            // REST over HTTP/1.1 on the same socket, and the CLI (which speaks REST), see the network.
            var list = await CliProcess.RunAsync("hub", "list", "--socket", socket, "-o", "json");
            Assert.True(list.Code == 0, list.ToString());
            Assert.Equal("grpc", JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single().GetProperty("networkId").GetString());

            var unknown = await client.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "nosuch" });
            Assert.False(unknown.Success);
            Assert.Equal(ErrorKind.NotFound, unknown.ErrorKind);
            Assert.Equal(1u, unknown.RemainingNetworks);

            var removed = await overTcp.RemoveNetworkAsync(new RemoveNetworkRequest { NetworkId = "grpc", NetworkIndex = 0 }, GrpcClient.Bearer(Token));
            Assert.True(removed.Success, removed.Error);
            Assert.Equal(0u, removed.RemainingNetworks);
            Assert.Null(await Ip.LinkAsync(_host.Name, prefix + "0"));
            Assert.Null(await Ip.LinkAsync(_host.Name, "veth-root0"));
            Assert.Null(await Ip.LinkAsync(_container, "eth0"));
            Assert.Equal(0u, (await client.GetStatusAsync(new GetStatusRequest())).NetworkCount);

            CliProcess.Terminate(daemon);
            await daemon.WaitForExitAsync();
            Assert.Equal(0, daemon.ExitCode);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
                await daemon.WaitForExitAsync();
            }
        }
    }

    /// <summary><c>wg show DEVICE WHAT</c>, one line each.</summary>
    private static async Task<string[]> WgAsync(string device, string what)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync("wg", "show", device, what);
        Assert.True(code == 0, $"wg show {device} {what}: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private AddNetworkRequest Request() => new()
    {
        NetworkId = "grpc",
        NetworkIndex = 0,
        Container = _container,
        PrivateKey = _key.ToBase64(),
        ListenPort = 51831,
        PeerEndpoint = "192.0.2.7:51820",
        PeerPublicKey = _peer.ToString(),
        IpAddress = "10.211.0.2",
        NetworkCidr = "10.211.0.0/24",
        Gateway = "10.211.0.1",
        PersistentKeepalive = 25,
        NatPolicy = "require",
    };

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    protected override async Task SetUpAsync()
    {
        _host = Box.CreateNamespace("gh");
        _container = await Box.CreateNamespaceWithIpAsync("gc");
        _other = await Box.CreateNamespaceWithIpAsync("go");
    }

    protected override async Task TearDownAsync()
    {
        using (var pkill = Process.Start("pkill", ["-f", "wireguard-go -f " + Box.Name("g")]))
        {
            await pkill.WaitForExitAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private async Task<Process> StartDaemonAsync(string socket, params string[] extra)
    {
        var psi = new ProcessStartInfo(CliProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["serve", "--socket", socket, "--db", Path.Combine(_dir, "aether.db"), "--namespace", _host.Name!, .. extra])
        {
            psi.ArgumentList.Add(a);
        }

        var daemon = Process.Start(psi)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        daemon.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        daemon.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (daemon.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"the daemon exited with {daemon.ExitCode} before serving: {string.Join('\n', log)}");
            }

            if ((await CliProcess.RunAsync("status", "--socket", socket)).Code == 0)
            {
                return daemon;
            }

            if (DateTime.UtcNow > deadline)
            {
                daemon.Kill();
                throw new Xunit.Sdk.XunitException("the daemon did not serve within 60 s: " + string.Join('\n', log));
            }

            await Task.Delay(200);
        }
    }
}
