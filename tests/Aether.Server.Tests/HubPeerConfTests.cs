using System.Diagnostics;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// <c>hub add --from-conf</c> and <c>hub conf</c> against the real daemon: the hub's side is read from a wg-quick file,
/// the far side's file is asked for, and a far host configured from it alone by wg(8) (<c>wg-quick strip</c>, then
/// <c>wg setconf</c>, with the Address and AllowedIPs routed as wg-quick would) pings the container through the tunnel.
/// </summary>
public sealed class HubPeerConfTests : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-hub-conf-").FullName;
    private readonly WireGuardSecretKey _hubKey = WireGuardSecretKey.GeneratePrivate();
    private readonly WireGuardSecretKey _farKey = WireGuardSecretKey.GeneratePrivate();
    private NetworkNamespace _host = null!;
    private NetworkNamespace _far = null!;
    private string _container = null!;

    [Fact]
    public async Task A_far_side_made_from_hub_conf_pings_the_container_of_a_network_added_from_a_wg_quick_file()
    {
        var socket = Path.Combine(_dir, "aether.sock");
        var hubConf = Path.Combine(_dir, "hub.conf");
        await File.WriteAllTextAsync(hubConf, $"""
            [Interface]
            PrivateKey = {_hubKey.ToBase64()}
            ListenPort = 51820
            Address = 10.212.0.1/24
            DNS = 10.212.0.53

            [Peer]
            PublicKey = {_farKey.GetPublicKey()}
            Endpoint = 192.168.79.2:51821
            AllowedIPs = 10.212.0.200/32
            """);
        var daemon = await StartDaemonAsync(socket);
        try
        {
            var bad = await CliProcess.RunAsync("hub", "add", "--socket", socket, "--from-conf", Path.Combine(_dir, "missing.conf"), "--network-id", "red");
            Assert.True(bad.Code == 2, bad.ToString());
            await File.WriteAllTextAsync(Path.Combine(_dir, "bad.conf"), "[Interface]\nListenPort = many\n");
            var malformed = await CliProcess.RunAsync("hub", "add", "--socket", socket, "--from-conf", Path.Combine(_dir, "bad.conf"), "--network-id", "red");
            Assert.True(malformed.Code == 2 && malformed.Stderr.Contains("line 2: ListenPort 'many'", StringComparison.Ordinal), malformed.ToString());

            var add = await CliProcess.RunAsync(
                "hub", "add", "--socket", socket, "--from-conf", hubConf, "--network-id", "red", "--index", "0", "--container", _container,
                "--address", "10.212.0.2", "--network-cidr", "10.212.0.0/24", "--gateway", "10.212.0.1");
            Assert.True(add.Code == 0, add.ToString());
            Assert.Contains("Address, DNS not used", add.Stderr, StringComparison.Ordinal);
            Assert.Contains(_hubKey.GetPublicKey().ToString(), add.Stdout, StringComparison.Ordinal);

            // Without the key file: the private key and the endpoint are comments.
            var template = await CliProcess.RunAsync("hub", "conf", "red", "--socket", socket);
            Assert.True(template.Code == 0, template.ToString());
            Assert.Contains("# PrivateKey = (the private key of " + _farKey.GetPublicKey(), template.Stdout, StringComparison.Ordinal);
            Assert.Contains("# Endpoint = HUB:51820", template.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(_hubKey.ToBase64(), template.Stdout, StringComparison.Ordinal);

            // A key file of someone else, a bad host, an unknown network: refused.
            var otherKey = Path.Combine(_dir, "other.key");
            await File.WriteAllTextAsync(otherKey, WireGuardSecretKey.GeneratePrivate().ToBase64() + "\n");
            var other = await CliProcess.RunAsync("hub", "conf", "red", "--socket", socket, "--private-key-file", otherKey);
            Assert.True(other.Code == 1 && other.Stderr.Contains("has no peer", StringComparison.Ordinal), other.ToString());
            var badHost = await CliProcess.RunAsync("hub", "conf", "red", "--socket", socket, "--endpoint", "not a host");
            Assert.True(badHost.Code == 2 && badHost.Stderr.Contains("--endpoint", StringComparison.Ordinal), badHost.ToString());
            Assert.Equal(1, (await CliProcess.RunAsync("hub", "conf", "blue", "--socket", socket)).Code);

            var farKeyFile = Path.Combine(_dir, "far.key");
            await File.WriteAllTextAsync(farKeyFile, _farKey.ToBase64() + "\n");
            var device = Box.Name("f");
            var farConf = Path.Combine(_dir, device + ".conf");
            var conf = await CliProcess.RunAsync("hub", "conf", "red", "--socket", socket, "--endpoint", "192.168.79.1", "--private-key-file", farKeyFile, "--out", farConf);
            Assert.True(conf.Code == 0, conf.ToString());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(farConf));
            var text = await File.ReadAllTextAsync(farConf);
            foreach (var line in new[] { "PrivateKey = " + _farKey.ToBase64(), "Address = 10.212.0.200/32", "ListenPort = 51821", "PublicKey = " + _hubKey.GetPublicKey(), "Endpoint = 192.168.79.1:51820", "AllowedIPs = 10.212.0.0/24" })
            {
                Assert.Contains(line + "\n", text, StringComparison.Ordinal);
            }

            // The far host, configured by wg(8) from the file: its device, then wg-quick's own part by hand.
            await using var backend = await WireGuardBackends.OpenAsync(_far);
            await backend.CreateDeviceAsync(device);
            var (stripCode, stripped, stripErr) = await Ip.ExecAsync("wg-quick", "strip", farConf);
            Assert.True(stripCode == 0, stripErr);
            var strippedFile = Path.Combine(_dir, "stripped");
            await File.WriteAllTextAsync(strippedFile, stripped);
            var (setCode, _, setErr) = await Ip.RunInAsync(_far.Name!, "wg", "setconf", device, strippedFile);
            Assert.True(setCode == 0, setErr);
            await Ip.RunAsync("-n", _far.Name!, "addr", "add", "10.212.0.200/32", "dev", device);
            await Ip.RunAsync("-n", _far.Name!, "link", "set", device, "up");
            await Ip.RunAsync("-n", _far.Name!, "route", "add", "10.212.0.0/24", "dev", device);
            await PingAsync(_far.Name!, "10.212.0.2");
        }
        finally
        {
            if (!daemon.HasExited)
            {
                CliProcess.Terminate(daemon);
                await daemon.WaitForExitAsync();
            }

            daemon.Dispose();
        }
    }

    protected override async Task SetUpAsync()
    {
        _host = Box.CreateNamespace("hh");
        _far = Box.CreateNamespace("hf");
        _container = await Box.CreateNamespaceWithIpAsync("hc");
        await Ip.RunAsync("-n", _host.Name!, "link", "add", "under", "type", "veth", "peer", "name", "under", "netns", _far.Name!);
        await Ip.RunAsync("-n", _host.Name!, "addr", "add", "192.168.79.1/30", "dev", "under");
        await Ip.RunAsync("-n", _far.Name!, "addr", "add", "192.168.79.2/30", "dev", "under");
        await Ip.RunAsync("-n", _host.Name!, "link", "set", "under", "up");
        await Ip.RunAsync("-n", _far.Name!, "link", "set", "under", "up");
    }

    protected override async Task TearDownAsync()
    {
        using (var pkill = Process.Start("pkill", ["-f", "wireguard-go -f " + Box.Token]))
        {
            await pkill.WaitForExitAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private Task<Process> StartDaemonAsync(string socket) => HubDaemonProcess.StartAsync(socket, Path.Combine(_dir, "aether.db"), _host.Name!, Box.Name("a"));

    private static async Task PingAsync(string ns, string address)
    {
        var (code, stdout, stderr) = (0, "", "");
        for (var attempt = 0; attempt < 10; attempt++)
        {
            (code, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", address);
            if (code == 0)
            {
                return;
            }
        }

        Assert.Fail($"ping {address} from {ns} failed (exit {code}): {stdout} {stderr}");
    }
}
