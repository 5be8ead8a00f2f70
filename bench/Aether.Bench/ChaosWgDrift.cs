using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>
/// A WireGuard drift storm against the daemon's hub (<c>aether serve --namespace HOST --wireguard-prefix PFX</c>):
/// four hub networks, each with its container namespace, and beside them a foreign WireGuard device
/// (<c>PREFIXfw</c>, a wireguard-go of our own in the hub's namespace, configured with <c>wg set</c>: a key, a port,
/// a peer) and foreign bridges (<c>PREFIXfd</c>, in the hub's namespace and in a container). Then random changes, one
/// <c>wg</c> or <c>ip</c> process each, back to back, on the owned objects: the listen port, private key and fwmark
/// changed, the desired peer removed or its endpoint, allowed IPs or keepalive changed, a stranger peer added (at
/// times with the network's allowed IPs, which WireGuard takes from the desired peer), the device set down or
/// deleted, <c>veth-rootN</c> set down, the container's <c>ethN</c> set down, its address or default route
/// deleted. Afterwards every network is whole again (<c>wg show DEV dump</c>: private key, listen port, no fwmark,
/// exactly the desired peer with its endpoint, allowed IPs and keepalive; <c>ip -j</c>: the links up with their
/// addresses, the routes), the foreign device's dump and the foreign links are as they were, and no owned object
/// is left that nothing desires, during the run or after the networks are removed.
/// </summary>
/// <remarks>WireGuard configuration changes made through <c>wg</c> (genetlink, or wireguard-go's UAPI socket) raise no
/// rtnetlink event: the hub sees them at its next resync (<c>aether serve --hub-resync</c>, 10 s by default; the storm
/// runs the daemon with 2 s), so the time to converge after them is up to that plus a pass. Link, address and route
/// changes wake a loop at once.</remarks>
internal static class ChaosWgDrift
{
    private const int Networks = 4;

    public static async Task<ChaosRow> StormAsync(string cli, int changes)
    {
        var prefix = "aet" + Guid.NewGuid().ToString("N")[..4];
        var world = new WgWorld(prefix);
        var failures = new List<string>();
        Process? daemon = null;
        Process? foreignGo = null;
        try
        {
            await ChaosShell.IpOrThrowAsync("netns", "add", world.Host);
            for (var i = 0; i < Networks; i++)
            {
                await ChaosShell.IpOrThrowAsync("netns", "add", world.Container(i));
            }

            foreach (var ns in new[] { world.Host, world.Container(0) })
            {
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "add", world.ForeignLink, "type", "bridge");
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", world.ForeignLink, "addrgenmode", "none");
                await ChaosShell.IpOrThrowAsync("-n", ns, "addr", "add", "198.18.254.1/32", "dev", world.ForeignLink);
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", world.ForeignLink, "up");
            }

            foreignGo = await StartForeignWireGuardAsync(world);
            var baseline = await ForeignAsync(world, foreignGo);
            daemon = await ChaosHub.StartAsync(cli, world.Dir, world.Host, world.WgPrefix, "--hub-resync", ResyncText);
            for (var i = 0; i < Networks; i++)
            {
                var (status, _) = await ChaosHub.PostAsync(world.Dir, world.Request(i));
                if (status != 201)
                {
                    throw new InvalidOperationException($"adding network {i}: HTTP {status}");
                }
            }

            if (await MissingAsync(world) is { Count: > 0 } before)
            {
                throw new InvalidOperationException("the networks are not whole before the storm: " + string.Join("; ", before));
            }

            var applied = 0;
            var kinds = new int[Kinds];
            var started = Stopwatch.GetTimestamp();
            for (var k = 0; k < changes; k++)
            {
                var i = Random.Shared.Next(Networks);
                var kind = Random.Shared.Next(Kinds);
                var (program, args) = Change(world, i, kind, k);
                var ok = (await ChaosShell.RunAsync(program, args)).Code == 0;
                applied += ok ? 1 : 0;
                kinds[kind] += ok ? 1 : 0;
            }

            var storm = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var healed = await UntilWholeAsync(world, TimeSpan.FromSeconds(60));
            if (healed is null)
            {
                failures.Add("not healed 60 s after the last change: " + string.Join("; ", await MissingAsync(world)));
            }

            // Then changes no rtnetlink event announces (wg only, on three networks): these wait for the resync.
            double? quiet = null;
            if (healed is not null)
            {
                string[][] quietChanges =
                [
                    ["set", world.Wg(0), "listen-port", Random.Shared.Next(43000, 44000).ToString(CultureInfo.InvariantCulture)],
                    ["set", world.Wg(1), "peer", ChaosHub.Key(), "allowed-ips", world.Cidr(1)],
                    ["set", world.Wg(2), "private-key", world.KeyFile(ChaosHub.Key())],
                ];
                foreach (var change in quietChanges)
                {
                    if (await ChaosShell.RunAsync("wg", change) is { Code: not 0 } refused)
                    {
                        failures.Add($"wg {string.Join(' ', change)}: {refused}"); // the row measures nothing without it
                    }
                }

                quiet = await UntilWholeAsync(world, TimeSpan.FromSeconds(60));
                if (quiet is null)
                {
                    failures.Add("wg-only changes (port, stranger peer, private key) not healed within 60 s: " + string.Join("; ", await MissingAsync(world)));
                }
            }

            if (daemon.HasExited)
            {
                failures.Add($"the daemon exited {daemon.ExitCode}");
            }

            var orphans = await StrayAsync(world);
            var foreign = ChaosWorld.Changed(baseline, await ForeignAsync(world, foreignGo));
            for (var i = 0; i < Networks; i++)
            {
                if (!await ChaosHub.DeleteAsync(world.Dir, world.NetworkId(i)))
                {
                    failures.Add($"DELETE {world.NetworkId(i)} did not answer 204");
                }
            }

            orphans.AddRange(await LeftAsync(world));
            foreign.AddRange(ChaosWorld.Changed(baseline, await ForeignAsync(world, foreignGo)).Select(f => f + " (after the removal)"));
            if (orphans.Count > 0 || foreign.Count > 0)
            {
                failures.Add($"orphans [{string.Join(", ", orphans)}]; foreign changed [{string.Join(", ", foreign)}]");
            }

            var times = string.Create(CultureInfo.InvariantCulture,
                $"{applied}/{changes} changes took effect over {storm / 1000:0.0} s ({string.Join(' ', Enumerable.Range(0, Kinds).Select(n => KindNames[n] + " " + kinds[n].ToString(CultureInfo.InvariantCulture)))}); healed {Ms(healed)} after the last; then wg-only changes healed in {Ms(quiet)} (resync {ResyncText})");
            return new ChaosRow($"wg drift storm, {Networks} hub networks, daemon going", 1, healed is not null && quiet is not null ? 1 : 0, orphans.Count, foreign.Count > 0 ? 1 : 0, times, failures);
        }
        finally
        {
            if (daemon is not null)
            {
                await ChaosShell.TerminateAsync(daemon);
                daemon.Dispose();
            }

            if (foreignGo is not null)
            {
                await ChaosShell.TerminateAsync(foreignGo);
                foreignGo.Dispose();
            }

            foreach (var ns in new[] { world.Host }.Concat(Enumerable.Range(0, Networks).Select(world.Container)))
            {
                _ = await ChaosShell.IpAsync("netns", "del", ns);
            }

            Directory.Delete(world.Dir, recursive: true);
        }
    }

    private const int Kinds = 14;

    /// <summary>The hub's resync in the storm (<c>aether serve --hub-resync</c>; 10 s by default): what heals the
    /// changes made with <c>wg</c> alone.</summary>
    private const string ResyncText = "2s";

    private static string Ms(double? ms) => ms is { } m ? string.Create(CultureInfo.InvariantCulture, $"{m:0} ms") : "never";

    /// <summary>Polls <see cref="MissingAsync"/> until nothing is; the time from the call, or null after <paramref name="timeout"/>.</summary>
    private static async Task<double?> UntilWholeAsync(WgWorld world, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            if ((await MissingAsync(world)).Count == 0)
            {
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            await Task.Delay(20);
        }

        return null;
    }

    private static readonly string[] KindNames =
        ["port", "key", "fwmark", "peer-del", "endpoint", "allowed", "keepalive", "stranger", "wg-down", "wg-del", "veth-down", "eth-down", "addr-del", "route-del"];

    /// <summary>Change <paramref name="kind"/> to network <paramref name="i"/>, as one <c>wg</c> or <c>ip</c> command.</summary>
    private static (string Program, string[] Args) Change(WgWorld w, int i, int kind, int k)
    {
        var wg = w.Wg(i);
        var octet = (k % 250 + 1).ToString(CultureInfo.InvariantCulture);
        return kind switch
        {
            0 => ("wg", ["set", wg, "listen-port", Random.Shared.Next(43000, 44000).ToString(CultureInfo.InvariantCulture)]),
            1 => ("wg", ["set", wg, "private-key", w.KeyFile(ChaosHub.Key())]),
            2 => ("wg", ["set", wg, "fwmark", "0x" + Random.Shared.Next(1, 0xffff).ToString("x", CultureInfo.InvariantCulture)]),
            3 => ("wg", ["set", wg, "peer", w.PeerKey(i), "remove"]),
            4 => ("wg", ["set", wg, "peer", w.PeerKey(i), "endpoint", $"198.51.100.{octet}:{Random.Shared.Next(1024, 65535)}"]),
            5 => ("wg", ["set", wg, "peer", w.PeerKey(i), "allowed-ips", $"10.249.{octet}.0/24"]),
            6 => ("wg", ["set", wg, "peer", w.PeerKey(i), "persistent-keepalive", "25"]),
            7 => ("wg", ["set", wg, "peer", ChaosHub.Key(), "allowed-ips", Random.Shared.Next(2) == 0 ? w.Cidr(i) : $"10.248.{octet}.0/24", "endpoint", "198.51.100.200:51820"]),
            8 => ("ip", ["-n", w.Host, "link", "set", wg, "down"]),
            9 => ("ip", ["-n", w.Host, "link", "del", wg]),
            10 => ("ip", ["-n", w.Host, "link", "set", "veth-root" + i.ToString(CultureInfo.InvariantCulture), "down"]),
            11 => ("ip", ["-n", w.Container(i), "link", "set", w.Eth(i), "down"]),
            12 => ("ip", ["-n", w.Container(i), "addr", "del", w.Address(i) + "/32", "dev", w.Eth(i)]),
            _ => ("ip", ["-n", w.Container(i), "route", "del", "default"]),
        };
    }

    /// <summary>A wireguard-go of our own in the hub's namespace, configured with <c>wg set</c>: key, port, peer.</summary>
    private static async Task<Process> StartForeignWireGuardAsync(WgWorld w)
    {
        var go = ChaosShell.Start("ip", ["netns", "exec", w.Host, "wireguard-go", "-f", w.ForeignWg]);
        go.OutputDataReceived += (_, _) => { };
        go.ErrorDataReceived += (_, _) => { };
        go.BeginOutputReadLine();
        go.BeginErrorReadLine();
        var socket = $"/var/run/wireguard/{w.ForeignWg}.sock";
        var waited = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (go.HasExited || waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"wireguard-go {w.ForeignWg} did not start (exited: {go.HasExited})");
            }

            await Task.Delay(20);
        }

        var set = await ChaosShell.RunAsync("wg", ["set", w.ForeignWg, "private-key", w.KeyFile(ChaosHub.Key()), "listen-port", Random.Shared.Next(44000, 45000).ToString(CultureInfo.InvariantCulture),
            "peer", ChaosHub.Key(), "endpoint", "198.51.100.77:51820", "allowed-ips", "10.247.0.0/24"]);
        if (set.Code != 0)
        {
            throw new InvalidOperationException("wg set on the foreign device: " + set);
        }

        await ChaosShell.IpOrThrowAsync("-n", w.Host, "link", "set", w.ForeignWg, "addrgenmode", "none");
        await ChaosShell.IpOrThrowAsync("-n", w.Host, "link", "set", w.ForeignWg, "up");
        return go;
    }

    /// <summary>The foreign objects: the wireguard-go device's dump and link, the bridges and their addresses.</summary>
    private static async Task<Dictionary<string, string>> ForeignAsync(WgWorld w, Process foreignGo) => new(StringComparer.Ordinal)
    {
        ["foreign wg dump"] = (await ChaosShell.RunAsync("wg", ["show", w.ForeignWg, "dump"])).ToString(),
        ["foreign wireguard-go"] = foreignGo.HasExited ? "exited" : "running",
        ["foreign wg link"] = ChaosWorld.Stable((await ChaosShell.IpAsync("-n", w.Host, "-j", "-d", "link", "show", "dev", w.ForeignWg)).Stdout),
        ["foreign bridge in the host"] = ChaosWorld.Stable((await ChaosShell.IpAsync("-n", w.Host, "-j", "-d", "link", "show", "dev", w.ForeignLink)).Stdout),
        ["foreign bridge addresses in the host"] = (await ChaosShell.IpAsync("-n", w.Host, "-j", "addr", "show", "dev", w.ForeignLink)).Stdout,
        ["foreign bridge in a container"] = ChaosWorld.Stable((await ChaosShell.IpAsync("-n", w.Container(0), "-j", "-d", "link", "show", "dev", w.ForeignLink)).Stdout),
        ["foreign bridge addresses in a container"] = (await ChaosShell.IpAsync("-n", w.Container(0), "-j", "addr", "show", "dev", w.ForeignLink)).Stdout,
    };

    /// <summary>What differs from the desired networks: <c>wg show DEV dump</c> (private key, listen port, fwmark
    /// off, exactly the desired peer: endpoint, allowed IPs, keepalive off) and <c>ip -j</c> (the device,
    /// <c>veth-rootN</c> and <c>ethN</c> up, the gateway and the address, the routes).</summary>
    private static async Task<List<string>> MissingAsync(WgWorld w)
    {
        var missing = new List<string>();
        var hostLinks = await LinksAsync(w.Host, "addr");
        var hostRoutes = (await ChaosShell.IpAsync("-n", w.Host, "-j", "route", "show")).Stdout;
        for (var i = 0; i < Networks; i++)
        {
            var wg = w.Wg(i);
            var dump = await ChaosShell.RunAsync("wg", ["show", wg, "dump"]);
            var lines = dump.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
            if (dump.Code != 0 || lines.Count == 0)
            {
                missing.Add($"{wg}: wg show: {dump}");
            }
            else
            {
                var device = lines[0];
                if (device[0] != w.PrivateKey(i) || device[2] != w.Port(i).ToString(CultureInfo.InvariantCulture) || device[3] != "off")
                {
                    missing.Add($"{wg}: key {(device[0] == w.PrivateKey(i) ? "right" : "wrong")}, port {device[2]}, fwmark {device[3]}");
                }

                var peers = lines.Skip(1).Select(p => $"{p[0]} {p[1]} {p[2]} {p[3]} {p[7]}").ToList();
                var want = $"{w.PeerKey(i)} (none) {w.Endpoint(i)} {w.Cidr(i)} off";
                if (peers.Count != 1 || peers[0] != want)
                {
                    missing.Add($"{wg}: peers [{string.Join(" | ", peers)}], want [{want}]");
                }
            }

            CheckLink(missing, hostLinks, wg, null, w.Host);
            CheckLink(missing, hostLinks, "veth-root" + i.ToString(CultureInfo.InvariantCulture), w.Gateway(i), w.Host);
            if (!hostRoutes.Contains($"\"dst\":\"{w.Cidr(i)}\",\"dev\":\"{wg}\"", StringComparison.Ordinal))
            {
                missing.Add($"route {w.Cidr(i)} dev {wg} in {w.Host}");
            }

            CheckLink(missing, await LinksAsync(w.Container(i), "addr"), w.Eth(i), w.Address(i), w.Container(i));
            var routes = (await ChaosShell.IpAsync("-n", w.Container(i), "-j", "route", "show")).Stdout;
            if (!routes.Contains($"\"dst\":\"default\",\"gateway\":\"{w.Gateway(i)}\",\"dev\":\"{w.Eth(i)}\"", StringComparison.Ordinal))
            {
                missing.Add($"default route via {w.Gateway(i)} in {w.Container(i)}");
            }
        }

        return missing;

        static void CheckLink(List<string> missing, Dictionary<string, JsonElement> links, string name, string? address, string ns)
        {
            if (!links.TryGetValue(name, out var link))
            {
                missing.Add($"{name} in {ns} is missing");
                return;
            }

            if (!link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP"))
            {
                missing.Add($"{name} in {ns} is down");
            }

            if (address is not null && !link.GetProperty("addr_info").EnumerateArray().Any(a => a.GetProperty("local").GetString() == address))
            {
                missing.Add($"{name} in {ns} lacks {address}");
            }
        }
    }

    private static async Task<Dictionary<string, JsonElement>> LinksAsync(string ns, string what)
    {
        var result = await ChaosShell.IpAsync("-n", ns, "-j", what, "show");
        using var doc = ChaosShell.IpJson(result.Code == 0 && result.Stdout.Length > 0 ? result.Stdout : "[]");
        return doc.RootElement.EnumerateArray().ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l.Clone(), StringComparer.Ordinal);
    }

    /// <summary>Owned objects nothing desires while the networks exist: links in the hub's namespace or a container
    /// beyond the desired and foreign ones (a second device, a stray veth), and wireguard-go sockets of the hub's
    /// prefix for no desired device.</summary>
    private static async Task<List<string>> StrayAsync(WgWorld w)
    {
        var stray = new List<string>();
        var desiredHost = Enumerable.Range(0, Networks).SelectMany(i => new[] { w.Wg(i), "veth-root" + i.ToString(CultureInfo.InvariantCulture) })
            .Concat(["lo", w.ForeignLink, w.ForeignWg]).ToHashSet(StringComparer.Ordinal);
        stray.AddRange((await LinksAsync(w.Host, "link")).Keys.Where(n => !desiredHost.Contains(n)).Select(n => $"link {n} in {w.Host}"));
        for (var i = 0; i < Networks; i++)
        {
            string[] desired = ["lo", w.Eth(i), .. i == 0 ? new[] { w.ForeignLink } : []];
            stray.AddRange((await LinksAsync(w.Container(i), "link")).Keys.Where(n => !desired.Contains(n)).Select(n => $"link {n} in {w.Container(i)}"));
        }

        stray.AddRange(Sockets(w).Where(s => !Enumerable.Range(0, Networks).Any(i => s == w.Wg(i))).Select(s => "wireguard-go socket " + s));
        return stray;
    }

    /// <summary>What the hub left once every network was removed: links but the loopback and the foreign ones, a
    /// table in the hub's namespace, a wireguard-go socket of its prefix.</summary>
    private static async Task<List<string>> LeftAsync(WgWorld w)
    {
        var left = new List<string>();
        foreach (var ns in new[] { w.Host }.Concat(Enumerable.Range(0, Networks).Select(w.Container)))
        {
            left.AddRange((await LinksAsync(ns, "link")).Keys.Where(n => n != "lo" && n != w.ForeignLink && n != w.ForeignWg).Select(n => $"link {n} in {ns} after the removal"));
        }

        var tables = await ChaosShell.RunAsync("ip", ["netns", "exec", w.Host, "nft", "list", "tables"]);
        left.AddRange(tables.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(t => $"{t} in {w.Host} after the removal"));
        left.AddRange(Sockets(w).Select(s => $"wireguard-go socket {s} after the removal"));
        return left;
    }

    private static IEnumerable<string> Sockets(WgWorld w) => Directory.Exists("/var/run/wireguard")
        ? Directory.GetFiles("/var/run/wireguard", w.WgPrefix + "*.sock").Select(f => Path.GetFileNameWithoutExtension(f)!)
        : [];

    /// <summary>The scenario's names, keys and addresses.</summary>
    private sealed class WgWorld
    {
        private readonly string[] _privateKeys = [.. Enumerable.Range(0, Networks).Select(_ => ChaosHub.Key())];
        private readonly string[] _peerKeys = [.. Enumerable.Range(0, Networks).Select(_ => ChaosHub.Key())];
        private readonly int _octet = Random.Shared.Next(100, 190);
        private readonly int _port = Random.Shared.Next(41000, 42000);
        private int _keys;

        public WgWorld(string prefix)
        {
            Prefix = prefix;
            Dir = Directory.CreateTempSubdirectory("aether-chaos-wg-").FullName;
        }

        public string Prefix { get; }

        public string Dir { get; }

        public string Host => Prefix + "h";

        public string WgPrefix => Prefix + "w";

        public string ForeignWg => Prefix + "fw";

        public string ForeignLink => Prefix + "fd";

        public string Container(int i) => Prefix + "c" + i.ToString(CultureInfo.InvariantCulture);

        public string NetworkId(int i) => "net" + i.ToString(CultureInfo.InvariantCulture);

        public string Wg(int i) => WgPrefix + i.ToString(CultureInfo.InvariantCulture);

        public string Eth(int i) => "eth" + i.ToString(CultureInfo.InvariantCulture);

        public string Cidr(int i) => string.Create(CultureInfo.InvariantCulture, $"10.{_octet}.{i}.0/24");

        public string Gateway(int i) => string.Create(CultureInfo.InvariantCulture, $"10.{_octet}.{i}.1");

        public string Address(int i) => string.Create(CultureInfo.InvariantCulture, $"10.{_octet}.{i}.2");

        public int Port(int i) => _port + i;

        public string Endpoint(int i) => string.Create(CultureInfo.InvariantCulture, $"192.0.2.{i + 1}:51820");

        public string PeerKey(int i) => _peerKeys[i];

        /// <summary>The device's private key as <c>wg show dump</c> prints it.</summary>
        public string PrivateKey(int i) => _privateKeys[i];

        public string Request(int i) => $$"""
            {"networkId":"{{NetworkId(i)}}","index":{{i}},"container":"{{Container(i)}}","privateKey":"{{_privateKeys[i]}}","listenPort":{{Port(i)}},
             "peerEndpoint":"{{Endpoint(i)}}","peerPublicKey":"{{_peerKeys[i]}}","address":"{{Address(i)}}","networkCidr":"{{Cidr(i)}}","gateway":"{{Gateway(i)}}"}
            """;

        /// <summary>A file holding <paramref name="key"/> (mode 0600), for <c>wg set private-key</c>.</summary>
        public string KeyFile(string key)
        {
            var path = Path.Combine(Dir, "key" + (_keys++).ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(path, key + "\n", Encoding.ASCII);
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            return path;
        }
    }
}
