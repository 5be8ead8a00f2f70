using System.Diagnostics;
using System.Text.Json;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;
using Aether.Hub;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// The real daemon with a real network: <c>aether serve --namespace HOST_A</c> is host A's hub, driven by the CLI over
/// its unix socket; host B's hub runs in this process. The two hosts are namespaces joined by a veth underlay, each
/// with a container behind it. Then the daemon is killed (SIGKILL: no chance to clean up), <c>eth0</c> is deleted by
/// hand while it is down, and a new daemon on the same database brings the network back and handshakes again.
/// </summary>
public sealed class DaemonHubTests : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-daemon-hub-").FullName;
    private readonly WireGuardSecretKey _keyA = WireGuardSecretKey.GeneratePrivate();
    private readonly WireGuardSecretKey _keyB = WireGuardSecretKey.GeneratePrivate();
    private NetworkNamespace _hostA = null!;
    private NetworkNamespace _hostB = null!;
    private string _cA = null!;
    private string _cB = null!;
    private string _c2 = null!;
    private WireGuardHub? _hubB;

    [Fact]
    public async Task A_network_made_through_the_daemon_pings_and_a_killed_daemon_restarted_repairs_it()
    {
        var socket = Path.Combine(_dir, "aether.sock");
        var db = Path.Combine(_dir, "aether.db");
        var keyFile = Path.Combine(_dir, "a.key");
        await File.WriteAllTextAsync(keyFile, _keyA.ToBase64() + "\n");
        _hubB = await WireGuardHub.StartAsync(new InMemoryHubStore(), new WireGuardHubOptions { HostNamespace = _hostB, WireGuardPrefix = Box.Name("b") });
        await _hubB.AddNetworkAsync(
            new HubNetworkRequest
            {
                NetworkId = "blue", Index = 0, Container = _cB, PrivateKey = _keyB.ToBase64(), ListenPort = 51820, PeerEndpoint = "192.168.78.1:51820",
                PeerPublicKey = _keyA.GetPublicKey().ToString(), Address = "10.210.0.3", NetworkCidr = "10.210.0.0/24", Gateway = "10.210.0.1",
            },
            default);

        var daemon = await StartDaemonAsync(socket, db);
        try
        {
            var add = await CliProcess.RunAsync(
                "hub", "add", "--socket", socket, "--network-id", "blue", "--index", "0", "--container", _cA, "--private-key-file", keyFile,
                "--listen-port", "51820", "--peer-endpoint", "192.168.78.2:51820", "--peer-public-key", _keyB.GetPublicKey().ToString(),
                "--address", "10.210.0.2", "--network-cidr", "10.210.0.0/24", "--gateway", "10.210.0.1", "-o", "json");
            Assert.True(add.Code == 0, add.ToString());
            var added = JsonDocument.Parse(add.Stdout).RootElement;
            Assert.Equal(Box.Name("a") + "0", added.GetProperty("wgInterface").GetString());
            Assert.Equal("eth0", added.GetProperty("ethInterface").GetString());
            Assert.Equal(_keyA.GetPublicKey().ToString(), added.GetProperty("publicKey").GetString());
            await PingAsync(expect: true);

            var status = await CliProcess.RunAsync("hub", "status", "--socket", socket, "-o", "json");
            Assert.True(status.Code == 0, status.ToString());
            Assert.Contains(_keyB.GetPublicKey().ToString(), status.Stdout, StringComparison.Ordinal);
            Assert.Contains("latestHandshake", status.Stdout, StringComparison.Ordinal);

            // A second container attached through the CLI: bad input first (exit 2, every bad field named, nothing
            // made), then the attachment, which reaches the first container through the host and the far side.
            var linksBefore = await Ip.LinksAsync(_hostA.Name!);
            var bad = await CliProcess.RunAsync("hub", "attach", "blue", "--socket", socket, "--id", "two!", "--container", _c2, "--interface", "x/y", "--address", "10.210.0.300");
            Assert.True(bad.Code == 2, bad.ToString());
            foreach (var field in new[] { "--id:", "--interface:", "--address:" })
            {
                Assert.Contains(field, bad.Stderr, StringComparison.Ordinal);
            }

            var outside = await CliProcess.RunAsync("hub", "attach", "blue", "--socket", socket, "--id", "two", "--container", _c2, "--address", "10.211.0.5");
            Assert.True(outside.Code == 2 && outside.Stderr.Contains("outside", StringComparison.Ordinal), outside.ToString());
            var noNet = await CliProcess.RunAsync("hub", "attach", "green", "--socket", socket, "--id", "two", "--container", _c2);
            Assert.True(noNet.Code == 1, noNet.ToString());
            Assert.Equal(linksBefore.Length, (await Ip.LinksAsync(_hostA.Name!)).Length);
            Assert.DoesNotContain(await Ip.LinksAsync(_c2), l => Ip.Str(l, "ifname") != "lo");

            // The peer's allowed IPs are the whole network here: the far side's .3 is not known to be taken, so the
            // address is given (the hub would pick .3, the lowest free one it knows of).
            var attach = await CliProcess.RunAsync("hub", "attach", "blue", "--socket", socket, "--id", "two", "--container", _c2, "--address", "10.210.0.4", "-o", "json");
            Assert.True(attach.Code == 0, attach.ToString());
            var attached = JsonDocument.Parse(attach.Stdout).RootElement;
            Assert.Equal(("veth0-1", "eth0", "10.210.0.4"), (attached.GetProperty("hostInterface").GetString(), attached.GetProperty("interface").GetString(), attached.GetProperty("address").GetString()));
            await PingFromAsync(_c2, "10.210.0.2", expect: true);
            await PingFromAsync(_c2, "10.210.0.3", expect: true);
            var again = await CliProcess.RunAsync("hub", "attach", "blue", "--socket", socket, "--id", "two", "--container", _c2);
            Assert.True(again.Code == 0 && again.Stdout.Contains("already there", StringComparison.Ordinal), again.ToString());

            // A second peer through the CLI: bad input first (exit 2, the options named, the device unchanged).
            var wgA = Box.Name("a") + "0";
            var third = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
            var pskFile = Path.Combine(_dir, "psk");
            await File.WriteAllTextAsync(pskFile, WireGuardSecretKey.GeneratePrivate().ToBase64() + "\n");
            var peersBefore = await WgPeersAsync(wgA);
            var badPeer = await CliProcess.RunAsync("hub", "peer", "set", "blue", "--socket", socket, "--public-key", "abc", "--allowed-ips", "10.210.0.128/25,nope", "--keepalive", "70000");
            Assert.True(badPeer.Code == 2, badPeer.ToString());
            foreach (var option in new[] { "--public-key:", "--allowed-ips:", "--persistent-keepalive:" })
            {
                Assert.Contains(option, badPeer.Stderr, StringComparison.Ordinal);
            }

            var overlap = await CliProcess.RunAsync("hub", "peer", "set", "blue", "--socket", socket, "--public-key", third, "--allowed-ips", "10.210.0.128/25");
            Assert.True(overlap.Code == 2 && overlap.Stderr.Contains("overlaps", StringComparison.Ordinal), overlap.ToString());
            Assert.Equal(peersBefore, await WgPeersAsync(wgA));
            var setPeer = await CliProcess.RunAsync("hub", "peer", "set", "blue", "--socket", socket, "--public-key", third, "--endpoint", "192.168.78.2:51899", "--allowed-ips", "10.99.0.0/24", "--keepalive", "15", "--preshared-key-file", pskFile);
            Assert.True(setPeer.Code == 0 && setPeer.Stdout.StartsWith('+'), setPeer.ToString());
            Assert.Contains(third + "\t", await WgPeersAsync(wgA), StringComparison.Ordinal);

            // SIGKILL: no shutdown at all. Its wireguard-go goes with it (a parent-death signal), and eth0 is deleted
            // by hand while no daemon runs.
            var device = Box.Name("a") + "0";
            Assert.NotEmpty(WireGuardGoPids(device));
            daemon.Kill();
            await daemon.WaitForExitAsync();
            var clock = Stopwatch.StartNew();
            while (WireGuardGoPids(device).Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            Assert.True(WireGuardGoPids(device).Count == 0, $"wireguard-go for {device} outlived the SIGKILLed daemon by {clock.Elapsed}");
            await Ip.RunAsync("-n", _cA, "link", "del", "eth0");
            await PingAsync(expect: false);

            daemon = await StartDaemonAsync(socket, db);
            var list = await CliProcess.RunAsync("hub", "list", "--socket", socket, "-o", "json");
            Assert.Equal("blue", JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single().GetProperty("networkId").GetString());
            Assert.NotNull(await Ip.LinkAsync(_cA, "eth0"));
            await PingAsync(expect: true);

            // The attachment came back from the database, with its names and address.
            var kept = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single().GetProperty("attachments").EnumerateArray().Single(a => a.GetProperty("attachmentId").GetString() == "two");
            Assert.Equal(("veth0-1", "10.210.0.4"), (kept.GetProperty("hostInterface").GetString(), kept.GetProperty("address").GetString()));
            await PingFromAsync(_c2, "10.210.0.3", expect: true);

            // So did the second peer; removed through the CLI, the first peer keeps pinging.
            var text = await CliProcess.RunAsync("hub", "status", "--socket", socket);
            Assert.Contains("peer " + third, text.Stdout, StringComparison.Ordinal);
            Assert.Contains("nat ok (policy warn)", text.Stdout, StringComparison.Ordinal);
            Assert.Contains(third + "\t", await WgPeersAsync(wgA), StringComparison.Ordinal);
            var removePeer = await CliProcess.RunAsync("hub", "peer", "remove", "blue", third, "--socket", socket);
            Assert.True(removePeer.Code == 0, removePeer.ToString());
            Assert.DoesNotContain(third, await WgPeersAsync(wgA), StringComparison.Ordinal);
            Assert.Equal(1, (await CliProcess.RunAsync("hub", "peer", "remove", "blue", third, "--socket", socket)).Code);
            await PingAsync(expect: true);
            var detach = await CliProcess.RunAsync("hub", "detach", "blue", "two", "--socket", socket);
            Assert.True(detach.Code == 0, detach.ToString());
            Assert.Null(await Ip.LinkAsync(_c2, "eth0"));
            Assert.Null(await Ip.LinkAsync(_hostA.Name, "veth0-1"));
            Assert.Equal(1, (await CliProcess.RunAsync("hub", "detach", "blue", "two", "--socket", socket)).Code);
            var after = JsonDocument.Parse((await CliProcess.RunAsync("hub", "status", "--socket", socket, "-o", "json")).Stdout).RootElement;
            var peer = after.GetProperty("networks").EnumerateArray().Single().GetProperty("peers").EnumerateArray().Single();
            Assert.Equal(JsonValueKind.String, peer.GetProperty("latestHandshake").ValueKind);

            // Removed through the daemon: nothing of it is left in host A or the container.
            var remove = await CliProcess.RunAsync("hub", "remove", "blue", "--socket", socket);
            Assert.True(remove.Code == 0, remove.ToString());
            Assert.Null(await Ip.LinkAsync(_cA, "eth0"));
            Assert.Null(await Ip.LinkAsync(_hostA.Name, "veth-root0"));
            Assert.Null(await Ip.LinkAsync(_hostA.Name, Box.Name("a") + "0"));
            var missing = await CliProcess.RunAsync("hub", "remove", "blue", "--socket", socket);
            Assert.Equal(1, missing.Code);

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

            daemon.Dispose();
        }
    }

    /// <summary>The wireguard-go processes serving <paramref name="device"/>, from their command lines.</summary>
    private static List<int> WireGuardGoPids(string device)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Length >= 3 && args[0].EndsWith("wireguard-go", StringComparison.Ordinal) && args[1] == "-f" && args[2] == device)
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }

        return pids;
    }

    protected override async Task SetUpAsync()
    {
        _hostA = Box.CreateNamespace("ha");
        _hostB = Box.CreateNamespace("hb");
        _cA = await Box.CreateNamespaceWithIpAsync("ca");
        _cB = await Box.CreateNamespaceWithIpAsync("cb");
        _c2 = await Box.CreateNamespaceWithIpAsync("c2");
        await Ip.RunAsync("-n", _c2, "link", "set", "lo", "up");
        await Ip.RunAsync("-n", _hostA.Name!, "link", "add", "under", "type", "veth", "peer", "name", "under", "netns", _hostB.Name!);
        await Ip.RunAsync("-n", _hostA.Name!, "addr", "add", "192.168.78.1/30", "dev", "under");
        await Ip.RunAsync("-n", _hostB.Name!, "addr", "add", "192.168.78.2/30", "dev", "under");
        await Ip.RunAsync("-n", _hostA.Name!, "link", "set", "under", "up");
        await Ip.RunAsync("-n", _hostB.Name!, "link", "set", "under", "up");
    }

    protected override async Task TearDownAsync()
    {
        if (_hubB is not null)
        {
            await _hubB.DisposeAsync();
        }

        // A daemon killed mid-test leaves its wireguard-go behind: stop what serves this test's devices.
        using (var pkill = Process.Start("pkill", ["-f", "wireguard-go -f " + Box.Name("a")]))
        {
            await pkill.WaitForExitAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private Task<Process> StartDaemonAsync(string socket, string db) => HubDaemonProcess.StartAsync(socket, db, _hostA.Name!, Box.Name("a"));

    /// <summary><c>wg show DEVICE dump</c>'s peer lines (without the transfer and handshake columns).</summary>
    private static async Task<string> WgPeersAsync(string device)
    {
        var dump = await Ip.ExecAsync("wg", "show", device, "dump");
        Assert.True(dump.Code == 0, dump.Stderr);
        return string.Join('\n', dump.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => string.Join('\t', l.Split('\t').Take(4))).Order(StringComparer.Ordinal));
    }

    private static async Task PingFromAsync(string ns, string address, bool expect)
    {
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < (expect ? 10 : 1); attempt++)
        {
            (code, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", address);
            if (code == 0)
            {
                break;
            }
        }

        Assert.True(expect == (code == 0), $"ping {address} from {ns} {(expect ? "failed" : "worked")} (exit {code}): {stdout} {stderr}");
    }

    private async Task PingAsync(bool expect)
    {
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < (expect ? 10 : 1); attempt++)
        {
            (code, stdout, stderr) = await Ip.RunInAsync(_cA, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.210.0.3");
            if (code == 0)
            {
                break;
            }
        }

        Assert.True(expect == (code == 0), $"ping {(expect ? "failed" : "worked")} (exit {code}): {stdout} {stderr}");
    }
}
