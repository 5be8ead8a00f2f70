using System.Diagnostics;
using System.Text.Json;
using Aether.WireGuard;

namespace Aether.Cli.Tests;

/// <summary>
/// WireGuard links in a topology file, end to end through the real <c>aether</c> and wireguard-go (the kernel here has
/// no WireGuard): <c>examples/wireguard-pair.yaml</c> under this test's names pings through its tunnel; drift made with
/// <c>wg set</c> and <c>ip link del</c> is seen by diff and repaired by apply and run, a peer that did not change
/// keeping its handshake and counters; a key file others can read is refused; a generated key survives its device.
/// Oracles: <c>wg show</c>/<c>wg showconf</c> in the namespace, <c>ip -j -d link</c>, ping.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WireGuardTopologyTests : CliTest
{
    private string _left = null!;
    private string _right = null!;
    private string _wgLeft = null!;
    private string _wgRight = null!;

    protected override async Task SetUpAsync()
    {
        await base.SetUpAsync();
        _left = Box.Name("-left");
        _right = Box.Name("-right");
        _wgLeft = Box.Name("-l0");
        _wgRight = Box.Name("-r0");
        Box.TrackNamespace(_left);
        Box.TrackNamespace(_right);

        // Disposed before the namespaces are deleted: a wireguard-go lives in its namespace and would keep it (and
        // itself) alive after ip netns del; without its device it exits.
        Box.Own(new DeviceCleanup([(_left, _wgLeft), (_right, _wgRight), (Ns, Box.Name("-g0"))]));
    }

    /// <summary>The example, with this test's names: the namespaces, veth and devices start with the token, and the
    /// example's own keys are replaced by new ones (the example's are public).</summary>
    private (string File, WireGuardSecretKey Left, WireGuardSecretKey Right) Example(string extraLeftPeer = "")
    {
        var text = System.IO.File.ReadAllText(Path.Combine(Cli.RepositoryRoot, "examples", "wireguard-pair.yaml"));
        var left = WireGuardSecretKey.GeneratePrivate();
        var right = WireGuardSecretKey.GeneratePrivate();
        var keys = System.Text.RegularExpressions.Regex.Matches(text, "privateKey: (\\S+)").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2, keys.Length);
        var oldLeft = WireGuardSecretKey.Parse(keys[0]);
        var oldRight = WireGuardSecretKey.Parse(keys[1]);
        text = text
            .Replace("name: wireguard-pair", "name: " + Box.Token, StringComparison.Ordinal)
            .Replace("wgp-", Box.Token + "-", StringComparison.Ordinal)
            .Replace(keys[0], left.ToBase64(), StringComparison.Ordinal)
            .Replace(keys[1], right.ToBase64(), StringComparison.Ordinal)
            .Replace(oldLeft.GetPublicKey().ToString(), left.GetPublicKey().ToString(), StringComparison.Ordinal)
            .Replace(oldRight.GetPublicKey().ToString(), right.GetPublicKey().ToString(), StringComparison.Ordinal);
        Assert.Contains(_wgLeft, text, StringComparison.Ordinal);
        Assert.DoesNotContain("wgp-", text, StringComparison.Ordinal);
        if (extraLeftPeer.Length > 0)
        {
            var at = text.IndexOf("        persistentKeepalive: 25", StringComparison.Ordinal);
            text = text.Insert(text.IndexOf('\n', at) + 1, extraLeftPeer);
        }

        return (Write("pair.yaml", text), left, right);
    }

    [Fact]
    public async Task The_example_pings_through_its_tunnel_and_a_second_apply_changes_nothing()
    {
        var (file, left, right) = Example();
        var apply = await AetherAsync("apply", file);
        Assert.True(apply.Code == 0, apply.ToString());
        Assert.Contains($"+ wireguard {_left}/{_wgLeft} (port 51820, public key {left.GetPublicKey()})", apply.Stdout, StringComparison.Ordinal);
        await AssertPingAsync(_left, "10.77.0.2");
        await AssertPingAsync(_right, "10.77.0.1");

        // wg's own view: keys, port, the peer and its allowed IPs; the link's mark and MTU from ip -d.
        var conf = await WgAsync(_left, "showconf", _wgLeft);
        Assert.Contains("PrivateKey = " + left.ToBase64(), conf, StringComparison.Ordinal);
        Assert.Contains("ListenPort = 51820", conf, StringComparison.Ordinal);
        Assert.Contains("PublicKey = " + right.GetPublicKey(), conf, StringComparison.Ordinal);
        Assert.Contains("AllowedIPs = 10.77.0.2/32, 10.78.0.0/24", conf, StringComparison.Ordinal);
        Assert.Contains("Endpoint = 192.168.77.2:51821", conf, StringComparison.Ordinal);
        Assert.Contains("PersistentKeepalive = 25", conf, StringComparison.Ordinal);
        var link = await Ip.RequireLinkAsync(_left, _wgLeft);
        Assert.Equal("aether:" + Box.Token + "/wg", Ip.Str(link, "ifalias"));
        Assert.Equal(1420, Ip.Int(link, "mtu"));
        var route = await Ip.RunInAsync(_left, "ip", "route", "show", "10.78.0.0/24");
        Assert.Contains("dev " + _wgLeft, route.Stdout, StringComparison.Ordinal);

        var second = await AetherAsync("apply", file);
        Assert.True(second.Code == 0, second.ToString());
        Assert.StartsWith("in sync", second.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);

        // aether wg show reads the same status wg does: a handshake and traffic after the pings.
        var show = await Cli.RunAsync("wg", "show", "-o", "json");
        Assert.True(show.Code == 0, show.ToString());
        var device = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == _wgLeft);
        Assert.Equal(_left, device.GetProperty("namespace").GetString());
        Assert.Equal(Box.Token, device.GetProperty("owner").GetString());
        Assert.Equal(left.GetPublicKey().ToString(), device.GetProperty("publicKey").GetString());
        var peer = device.GetProperty("peers").EnumerateArray().Single();
        Assert.Equal(right.GetPublicKey().ToString(), peer.GetProperty("publicKey").GetString());
        Assert.NotEqual(JsonValueKind.Null, peer.GetProperty("latestHandshake").ValueKind);
        Assert.True(peer.GetProperty("receivedBytes").GetUInt64() > 0);
        Assert.DoesNotContain(left.ToBase64(), show.Stdout, StringComparison.Ordinal);

        var destroy = await AetherAsync("destroy", file);
        Assert.True(destroy.Code == 0, destroy.ToString());
        await AssertGoneAsync(_wgLeft);
        Assert.DoesNotContain(_left, await Ip.NetnsNamesAsync());
    }

    [Fact]
    public async Task Drift_made_with_wg_set_and_ip_link_del_is_repaired_and_other_peers_keep_their_session()
    {
        var third = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
        var (file, _, right) = Example($"      - publicKey: {third}\n        allowedIPs: [10.77.0.9/32]\n");
        var apply = await AetherAsync("apply", file);
        Assert.True(apply.Code == 0, apply.ToString());
        await AssertPingAsync(_left, "10.77.0.2");
        var before = await PeerDumpAsync(_left, _wgLeft, right.GetPublicKey());

        // A peer removed with wg set: diff shows the peer to add, the others in sync.
        await WgAsync(_left, "set", _wgLeft, "peer", third.ToString(), "remove");
        var diff = await AetherAsync("diff", file);
        Assert.True(diff.Code == 3, diff.ToString());
        Assert.Contains($"+ peer {third} of {_left}/{_wgLeft}", diff.Stdout, StringComparison.Ordinal);
        Assert.Contains($"= peer {right.GetPublicKey()} of {_left}/{_wgLeft}", diff.Stdout, StringComparison.Ordinal);

        // aether run puts it back; the right peer's session is the same one (its handshake time kept, its counters
        // not reset), and a device deleted with ip link del comes back and pings again.
        using var run = Cli.Start("run", "-f", file, "--state-dir", Path.Combine(Dir, "state"), "--resync", "500ms");
        try
        {
            await WaitAsync(async () => (await WgAsync(_left, "show", _wgLeft, "peers")).Contains(third.ToString(), StringComparison.Ordinal), "the removed peer to come back");
            var after = await PeerDumpAsync(_left, _wgLeft, right.GetPublicKey());
            Assert.Equal(before.Handshake, after.Handshake);
            Assert.True(after.Received >= before.Received && after.Sent >= before.Sent, $"counters went back: {before} then {after}");

            var index = Ip.Int(await Ip.RequireLinkAsync(_right, _wgRight), "ifindex");
            await Ip.RunAsync("-n", _right, "link", "del", _wgRight);
            await WaitAsync(async () => await Ip.LinkAsync(_right, _wgRight) is { } l && Ip.Int(l, "ifindex") != index && (await Ip.RunInAsync(_right, "ip", "-br", "addr", "show", _wgRight)).Stdout.Contains("10.77.0.2/24", StringComparison.Ordinal), "the deleted device to come back with its address");
            await AssertPingAsync(_left, "10.77.0.2");
            Assert.Contains("PublicKey = " + PublicOf(await WgAsync(_left, "showconf", _wgLeft)), await WgAsync(_right, "showconf", _wgRight), StringComparison.Ordinal);
        }
        finally
        {
            Cli.Terminate(run);
            await run.WaitForExitAsync();
        }

        var diffAfter = await AetherAsync("diff", file);
        Assert.True(diffAfter.Code == 0, diffAfter.ToString());
        Assert.True((await AetherAsync("destroy", file)).Code == 0);
        await AssertGoneAsync(_wgRight);
    }

    [Fact]
    public async Task A_key_file_others_can_read_is_refused_and_nothing_is_touched()
    {
        var keyFile = Path.Combine(Dir, "left.key");
        System.IO.File.WriteAllText(keyFile, WireGuardSecretKey.GeneratePrivate().ToBase64() + "\n");
        System.IO.File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var device = Box.Name("-g0");
        var file = Write("keyfile.yaml", $$"""
            name: {{Box.Token}}
            namespaces:
              - name: {{Ns}}
            links:
              - { name: {{device}}, kind: wireguard, namespace: {{Ns}}, privateKeyFile: left.key, listenPort: 51830 }
            """);
        var refused = await AetherAsync("apply", file);
        Assert.True(refused.Code == 2, refused.ToString());
        Assert.Contains("links[0].privateKeyFile: left.key: mode 0644 lets others than its owner read the private key; it must be readable by its owner only (chmod 600 left.key)", refused.Stderr + refused.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());

        System.IO.File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var applied = await AetherAsync("apply", file);
        Assert.True(applied.Code == 0, applied.ToString());
        Assert.Contains("ListenPort = 51830", await WgAsync(Ns, "showconf", device), StringComparison.Ordinal);
        Assert.True((await AetherAsync("destroy", file)).Code == 0);
    }

    [Fact]
    public async Task A_generated_key_is_kept_private_in_the_state_directory_and_survives_its_device()
    {
        var device = Box.Name("-g0");
        var peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
        var file = Write("generated.yaml", $$"""
            name: {{Box.Token}}
            namespaces:
              - name: {{Ns}}
            links:
              - name: {{device}}
                kind: wireguard
                namespace: {{Ns}}
                addresses: [10.79.0.1/24]
                peers:
                  - { publicKey: {{peer}}, allowedIPs: [10.79.0.2/32] }
            """);
        var diff = await AetherAsync("diff", file);
        Assert.Contains($"+ wireguard {Ns}/{device} (any port, key to be generated)", diff.Stdout, StringComparison.Ordinal);
        var keyPath = Path.Combine(Dir, "state", Box.Token, "wireguard", "netns-" + Ns, device + ".key");
        Assert.False(System.IO.File.Exists(keyPath), "diff wrote a key");

        var apply = await AetherAsync("apply", file);
        Assert.True(apply.Code == 0, apply.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(keyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, System.IO.File.GetUnixFileMode(Path.GetDirectoryName(Path.GetDirectoryName(keyPath))!));
        var key = WireGuardSecretKey.Parse(System.IO.File.ReadAllText(keyPath).Trim());
        var publicKey = (await WgAsync(Ns, "show", device, "public-key")).Trim();
        Assert.Equal(key.GetPublicKey().ToString(), publicKey);
        Assert.Contains($"public key {publicKey})", apply.Stdout, StringComparison.Ordinal);

        // The device goes (its wireguard-go with it); the next apply makes it again with the same key.
        await Ip.RunAsync("-n", Ns, "link", "del", device);
        await AssertGoneAsync(device);
        var again = await AetherAsync("apply", file);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Equal(publicKey, (await WgAsync(Ns, "show", device, "public-key")).Trim());
        Assert.Equal(key, WireGuardSecretKey.Parse(System.IO.File.ReadAllText(keyPath).Trim()));
        Assert.True((await AetherAsync("destroy", file)).Code == 0);
    }

    private static string PublicOf(string showconf)
    {
        var line = showconf.Split('\n').Single(l => l.StartsWith("PrivateKey = ", StringComparison.Ordinal));
        return WireGuardSecretKey.Parse(line["PrivateKey = ".Length..].Trim()).GetPublicKey().ToString();
    }

    private static async Task<string> WgAsync(string ns, params string[] args)
    {
        var (code, stdout, stderr) = await Ip.RunInAsync(ns, "wg", args);
        Assert.True(code == 0, $"wg {string.Join(' ', args)} in {ns}: {stderr}");
        return stdout;
    }

    /// <summary>A peer's line of <c>wg show DEV dump</c>: latest handshake and transfer.</summary>
    private static async Task<(long Handshake, long Received, long Sent)> PeerDumpAsync(string ns, string device, WireGuardKey peer)
    {
        var line = (await WgAsync(ns, "show", device, "dump")).Split('\n').Single(l => l.StartsWith(peer + "\t", StringComparison.Ordinal)).Split('\t');
        return (long.Parse(line[4], System.Globalization.CultureInfo.InvariantCulture), long.Parse(line[5], System.Globalization.CultureInfo.InvariantCulture), long.Parse(line[6], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    /// <summary>The device's wireguard-go has exited (its socket answers no more).</summary>
    private static Task AssertGoneAsync(string device) =>
        WaitAsync(async () => (await Ip.ExecAsync("wg", "show", device)).Code != 0, $"wireguard-go of {device} to exit");

    private static async Task AssertPingAsync(string ns, string address)
    {
        // Both ends come up within a moment of each other: the first handshake initiation can find the far end not
        // there yet, and WireGuard tries again after 5 s (REKEY_TIMEOUT). So up to ten tries of one second.
        for (var i = 0; i < 10; i++)
        {
            if ((await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "1", address)).Code == 0)
            {
                return;
            }
        }

        var (_, stdout, stderr) = await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "1", address);
        Assert.Fail($"{ns} cannot ping {address}: {stdout}{stderr}");
    }

    /// <summary>Deletes the test's WireGuard devices (ignoring those already gone), so their wireguard-go exit.</summary>
    private sealed class DeviceCleanup((string Ns, string Device)[] devices) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (ns, device) in devices)
            {
                if (System.IO.File.Exists("/run/netns/" + ns))
                {
                    Ip.TryRunAsync("-n", ns, "link", "del", device).GetAwaiter().GetResult();
                }
            }
        }
    }

    [Fact]
    public async Task Wg_show_passes_over_an_entry_that_is_not_a_namespace_yet()
    {
        // `ip netns add` makes the file first and mounts the namespace on it after: an entry caught in between is no
        // namespace to read (setns says EINVAL), not an error of `aether wg show`, which walks every entry.
        Directory.CreateDirectory("/run/netns");
        var entry = Path.Combine("/run/netns", Box.Name("half"));
        await System.IO.File.WriteAllBytesAsync(entry, []);
        try
        {
            var show = await Cli.RunAsync("wg", "show", "-o", "json");
            Assert.True(show.Code == 0, show.ToString());
            var errors = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.DoesNotContain(errors, e => e!.Contains(Path.GetFileName(entry), StringComparison.Ordinal));
        }
        finally
        {
            System.IO.File.Delete(entry);
        }
    }
}
