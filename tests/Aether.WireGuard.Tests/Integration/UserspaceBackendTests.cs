using System.Diagnostics;
using System.Net;
using Aether.Netlink;
using Aether.WireGuard.Userspace;

namespace Aether.WireGuard.Tests.Integration;

/// <summary>The userspace backend against the real wireguard-go, checked with wg(8) and ip(8).</summary>
public sealed class UserspaceBackendTests : SandboxTest
{
    [Fact]
    public async Task Creates_configures_reads_and_deletes_a_device_inside_its_namespace()
    {
        using var ns = Box.CreateNamespace("n");
        var name = Box.Name("w");
        await using var backend = UserspaceWireGuardBackend.Open(ns);
        await backend.CreateDeviceAsync(name);

        var link = await Ip.RequireLinkAsync(ns.Name, name);
        Assert.Equal("tun", Ip.InfoKind(link));
        Assert.Null(await Ip.LinkAsync(null, name)); // inside the namespace, not the host
        var pid = backend.ProcessId(name)!.Value;
        Assert.Equal((await Ip.InodeInsideAsync(ns.Name!)).ToString(System.Globalization.CultureInfo.InvariantCulture), InodeOf(pid));

        var privateKey = WireGuardSecretKey.GeneratePrivate();
        var peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
        var psk = WireGuardSecretKey.GeneratePreshared();
        await backend.ConfigureDeviceAsync(name, new WireGuardDeviceConfig
        {
            PrivateKey = privateKey,
            ListenPort = 0,
            FirewallMark = 0x42,
            Peers =
            [
                new WireGuardPeerConfig(peer)
                {
                    PresharedKey = psk,
                    Endpoint = new IPEndPoint(IPAddress.Parse("10.213.9.2"), 51820),
                    PersistentKeepaliveInterval = 25,
                    AllowedIPs = [IPPrefix.Parse("10.213.10.0/24"), IPPrefix.Parse("fd13::/64")],
                },
            ],
        });

        var device = await backend.GetDeviceAsync(name);
        Assert.NotNull(device);
        var wg = await WgShow.ReadAsync(name);
        Assert.Equal(privateKey.ToBase64(), wg.PrivateKey);
        Assert.Equal(privateKey, device.PrivateKey);
        Assert.Equal(wg.PublicKey, device.PublicKey.ToString());
        Assert.NotEqual(0, device.ListenPort); // 0 asked for a random port
        Assert.Equal(wg.ListenPort, device.ListenPort);
        Assert.Equal("0x42", wg.FwMark);
        Assert.Equal(0x42u, device.FirewallMark);
        var p = Assert.Single(device.Peers);
        var wp = Assert.Single(wg.Peers);
        Assert.Equal(wp.PublicKey, p.PublicKey.ToString());
        Assert.Equal(wp.PresharedKey, psk.ToBase64());
        Assert.Equal(psk, p.PresharedKey);
        Assert.Equal("10.213.9.2:51820", wp.Endpoint);
        Assert.Equal(wp.Endpoint, p.Endpoint!.ToString());
        Assert.Equal(["10.213.10.0/24", "fd13::/64"], wp.AllowedIps);
        Assert.Equal(wp.AllowedIps, p.AllowedIPs.Select(a => a.ToString()));
        Assert.Equal("25", wp.Keepalive);
        Assert.Equal(25, p.PersistentKeepaliveInterval);

        await backend.DeleteDeviceAsync(name);
        Assert.Null(await Ip.LinkAsync(ns.Name, name));
        Assert.False(File.Exists(UapiClient.SocketPath(UapiClient.DefaultDirectory, name)));
        Assert.False(IsAlive(pid));
        Assert.Null(await backend.GetDeviceAsync(name));
        var ex = await Assert.ThrowsAsync<WireGuardException>(() => backend.ConfigureDeviceAsync(name, new WireGuardDeviceConfig { ListenPort = 1 }));
        Assert.Equal(Errno.ENODEV, ex.Errno);
    }

    [Fact]
    public async Task A_name_in_use_in_another_namespace_is_a_collision_that_names_it()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        var name = Box.Name("w");
        await using var inA = UserspaceWireGuardBackend.Open(a);
        await using var inB = UserspaceWireGuardBackend.Open(b);
        await inA.CreateDeviceAsync(name);

        var ex = await Assert.ThrowsAsync<WireGuardNameCollisionException>(() => inB.CreateDeviceAsync(name));
        Assert.Contains("namespace " + a.Name, ex.Message, StringComparison.Ordinal);
        Assert.Contains("unique across namespaces", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/var/run/wireguard/" + name + ".sock", ex.Message, StringComparison.Ordinal);
        Assert.Equal(inA.ProcessId(name), ex.OtherPid);
        Assert.Null(await Ip.LinkAsync(b.Name, name));

        // The device in a is not b's to read or change.
        Assert.Null(await inB.GetDeviceAsync(name));
        Assert.NotNull(await inA.GetDeviceAsync(name));
        Assert.Equal(Errno.EEXIST, (await Assert.ThrowsAsync<WireGuardException>(() => inA.CreateDeviceAsync(name))).Errno);
    }

    [Fact]
    public async Task A_wireguard_go_started_by_hand_elsewhere_is_found_through_its_socket()
    {
        using var a = Box.CreateNamespace("a");
        using var b = Box.CreateNamespace("b");
        var name = Box.Name("h");
        using var manual = StartByHand(a.Name!, name);
        try
        {
            await WaitForAsync(() => Task.FromResult(File.Exists(UapiClient.SocketPath(UapiClient.DefaultDirectory, name))));
            await using var inB = UserspaceWireGuardBackend.Open(b);
            var ex = await Assert.ThrowsAsync<WireGuardNameCollisionException>(() => inB.CreateDeviceAsync(name));
            Assert.Contains("namespace " + a.Name, ex.Message, StringComparison.Ordinal);
            Assert.Equal(manual.Id, ex.OtherPid);

            await using var inA = UserspaceWireGuardBackend.Open(a);
            Assert.False(inA.Supervises(name));
            Assert.NotNull(await inA.GetDeviceAsync(name));
            await inA.DeleteDeviceAsync(name); // not ours to stop: its link is deleted and it exits
            await manual.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            Assert.Null(await Ip.LinkAsync(a.Name, name));
        }
        finally
        {
            if (!manual.HasExited)
            {
                manual.Kill();
            }
        }
    }

    [Fact]
    public async Task A_killed_wireguard_go_is_restarted_and_says_so()
    {
        using var ns = Box.CreateNamespace("n");
        var name = Box.Name("w");
        await using var backend = UserspaceWireGuardBackend.Open(ns, WireGuardBackendOptions.Default with { RestartDelay = TimeSpan.FromMilliseconds(100) });
        var events = new List<string>();
        backend.DeviceChanged += (_, e) =>
        {
            lock (events)
            {
                events.Add(e.Device + ": " + e.What);
            }
        };
        await backend.CreateDeviceAsync(name);
        await backend.ConfigureDeviceAsync(name, new WireGuardDeviceConfig { ListenPort = 40123 });
        var first = backend.ProcessId(name)!.Value;

        Process.GetProcessById(first).Kill(); // SIGKILL: no cleanup, the socket file stays behind
        await WaitForAsync(async () => backend.ProcessId(name) is int next && next != first && await backend.GetDeviceAsync(name) is not null);
        await WaitForAsync(() =>
        {
            lock (events)
            {
                return Task.FromResult(events.Count >= 2);
            }
        });

        Assert.Equal(1, backend.Restarts(name));
        Assert.NotNull(await Ip.LinkAsync(ns.Name, name));
        var device = await backend.GetDeviceAsync(name);
        Assert.NotEqual(40123, device!.ListenPort); // a new process: the configuration died with the old one
        lock (events)
        {
            Assert.Contains(events, e => e.StartsWith(name + ": wireguard-go exited unasked", StringComparison.Ordinal));
            Assert.Contains(events, e => e.StartsWith(name + ": wireguard-go restarted", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_device_deleted_by_hand_comes_back_and_dispose_stops_everything()
    {
        using var ns = Box.CreateNamespace("n");
        var name = Box.Name("w");
        var backend = UserspaceWireGuardBackend.Open(ns, WireGuardBackendOptions.Default with { RestartDelay = TimeSpan.FromMilliseconds(100) });
        int pid;
        try
        {
            await backend.CreateDeviceAsync(name);
            var first = backend.ProcessId(name)!.Value;
            await Ip.RunAsync("-n", ns.Name!, "link", "del", name);
            await WaitForAsync(async () => backend.ProcessId(name) is int next && next != first && await Ip.LinkAsync(ns.Name, name) is not null);
            pid = backend.ProcessId(name)!.Value;
        }
        finally
        {
            await backend.DisposeAsync();
        }

        Assert.False(IsAlive(pid));
        Assert.Null(await Ip.LinkAsync(ns.Name, name));
        Assert.False(File.Exists(UapiClient.SocketPath(UapiClient.DefaultDirectory, name)));
    }

    [Fact]
    public async Task Status_is_polled_null_while_the_device_is_missing()
    {
        using var ns = Box.CreateNamespace("n");
        var name = Box.Name("w");
        await using var backend = UserspaceWireGuardBackend.Open(ns);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<WireGuardDevice?>();
        await foreach (var device in WireGuardStatus.PollAsync(backend, name, TimeSpan.FromMilliseconds(50), cts.Token))
        {
            seen.Add(device);
            if (seen.Count == 1)
            {
                await backend.CreateDeviceAsync(name, cts.Token);
                await backend.ConfigureDeviceAsync(name, new WireGuardDeviceConfig { ListenPort = 40999 }, cts.Token);
            }

            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Null(seen[0]);
        Assert.All(seen.Skip(1), d => Assert.Equal(40999, d!.ListenPort));
    }

    [Fact]
    public async Task A_listen_port_in_use_fails_the_first_configuration_not_later()
    {
        // wireguard-go binds its UDP sockets when it brings its device up, a moment after it starts; a listen port set
        // before that was only stored, and the bind failed later in its log. Creation waits for the bind, so the very
        // first configuration after it gets the error. Several rounds: the window was a few milliseconds.
        using var ns = Box.CreateNamespace("n");
        using var squatter = ns.RunInside(() =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            return socket;
        });
        var taken = (ushort)((IPEndPoint)squatter.LocalEndPoint!).Port;
        await using var backend = UserspaceWireGuardBackend.Open(ns);
        for (var round = 0; round < 8; round++)
        {
            var name = Box.Name("p" + round.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await backend.CreateDeviceAsync(name);
            Assert.NotEqual(0, (await WgShow.ReadAsync(name)).ListenPort); // bound already, to a random port
            var ex = await Assert.ThrowsAsync<WireGuardException>(() => backend.ConfigureDeviceAsync(name, new WireGuardDeviceConfig { ListenPort = taken }));
            Assert.Equal(Errno.EADDRINUSE, ex.Errno);
            await backend.DeleteDeviceAsync(name);
        }
    }

    [Fact]
    public async Task Bad_names_are_refused_before_anything_starts()
    {
        using var ns = Box.CreateNamespace("n");
        await using var backend = UserspaceWireGuardBackend.Open(ns);
        await Assert.ThrowsAsync<ArgumentException>(() => backend.CreateDeviceAsync("a-name-over-15-bytes"));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.CreateDeviceAsync("../etc"));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.GetDeviceAsync(""));
    }

    [Fact]
    public void A_missing_wireguard_go_is_named()
    {
        var ex = Assert.Throws<WireGuardException>(() => UserspaceWireGuardBackend.Open(null, WireGuardBackendOptions.Default with { WireGuardGo = "/nonexistent/wireguard-go" }));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Contains("wireguard-go is not installed", ex.Message, StringComparison.Ordinal);
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"not true within {seconds} s");
            }

            await Task.Delay(50);
        }
    }

    private static Process StartByHand(string ns, string name)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "netns", "exec", ns, "wireguard-go", "-f", name })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z", StringComparison.Ordinal);

    private static string InodeOf(int pid)
    {
        var link = new FileInfo($"/proc/{pid}/ns/net").LinkTarget!;
        return link[(link.IndexOf('[', StringComparison.Ordinal) + 1)..link.IndexOf(']', StringComparison.Ordinal)];
    }
}
