using System.Diagnostics;
using System.Globalization;
using Aether.Hub;
using Aether.Interop;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;

namespace Aether.Bench;

/// <summary>
/// The WireGuard hub: how long <c>AddNetwork</c> takes until every kernel object is in place and the peer configured
/// (wgN with its key, port and peer, the veth pair with ethN in the container, addresses, routes, forwarding, the
/// nftables table), and how long a status read takes with 16 networks; beside the same steps as an <c>ip</c> +
/// <c>wg</c> + <c>nft</c> script (what the reference's service does, one command per step), run as one shell per
/// network. Everything happens in benchmark namespaces; the peers' endpoints are never contacted.
/// </summary>
internal static class HubBench
{
    public static async Task<int> RunAsync(int networks, int rounds, string? daemon)
    {
        var prefix = "bh" + Guid.NewGuid().ToString("N")[..4];
        var hostName = prefix + "h";
        var containerName = prefix + "c";
        using var host = NetworkNamespace.Create(hostName);
        using var container = NetworkNamespace.Create(containerName);
        var keys = Enumerable.Range(0, networks).Select(_ => WireGuardSecretKey.GeneratePrivate()).ToArray();
        var peers = Enumerable.Range(0, networks).Select(_ => WireGuardSecretKey.GeneratePrivate().GetPublicKey()).ToArray();
        var keyDir = Directory.CreateTempSubdirectory(prefix);
        try
        {
            // HUB_BENCH_PROFILE=1: every phase of the hub's calls and passes timed, printed at the end.
            var phases = Environment.GetEnvironmentVariable("HUB_BENCH_PROFILE") is null ? null : new System.Collections.Concurrent.ConcurrentDictionary<string, List<double>>(StringComparer.Ordinal);
            Action<string, TimeSpan>? timings = phases is null ? null : (name, took) =>
            {
                var list = phases.GetOrAdd(name, _ => []);
                lock (list)
                {
                    list.Add(took.TotalMilliseconds);
                }
            };
            await using var hub = await WireGuardHub.StartAsync(new InMemoryHubStore(), new WireGuardHubOptions { HostNamespace = host, WireGuardPrefix = prefix + "w", RunLoop = Environment.GetEnvironmentVariable("HUB_BENCH_NO_LOOP") is null, PhaseTimings = timings });
            Console.WriteLine($"hub benchmark: {networks} networks × {rounds} rounds, WireGuard backend {hub.Backend.ToString().ToLowerInvariant()}");

            var add = new List<double>();
            var remove = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < networks; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await hub.AddNetworkAsync(Request(i, containerName, keys[i], peers[i]), default);
                    add.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                if (round < rounds - 1)
                {
                    for (var i = networks - 1; i >= 0; i--)
                    {
                        var started = Stopwatch.GetTimestamp();
                        await hub.RemoveNetworkAsync("net" + i.ToString(CultureInfo.InvariantCulture), default);
                        remove.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
            }

            // Status with every network present, read from the devices each time.
            var status = new List<double>();
            for (var i = 0; i < 200; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var s = await hub.GetStatusAsync(default);
                status.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (s.Networks.Count != networks || s.Networks.Any(n => n.Peers.Count != 1))
                {
                    throw new InvalidOperationException($"status shows {s.Networks.Count} networks, not {networks} with a peer each");
                }
            }

            if (phases is not null)
            {
                PrintPhases(phases, add.Count + remove.Count);
            }

            for (var i = networks - 1; i >= 0; i--)
            {
                await hub.RemoveNetworkAsync("net" + i.ToString(CultureInfo.InvariantCulture), default);
            }

            // The daemon: the same networks through its HTTP API on its unix socket.
            (List<double> Add, List<double> Status)? api = null;
            if (daemon is not null)
            {
                await hub.DisposeAsync(); // its wireguard-go processes go; the daemon starts its own
                api = await DaemonAsync(daemon, hostName, containerName, prefix, networks, rounds, keys, peers, keyDir.FullName);
            }

            // The script peer: the same objects, one shell per network, then the same status read by wg(8).
            var script = new List<double>();
            var wgShow = new List<double>();
            for (var round = 0; round < Math.Min(rounds, 2); round++)
            {
                for (var i = 0; i < networks; i++)
                {
                    var keyFile = Path.Combine(keyDir.FullName, "k" + i.ToString(CultureInfo.InvariantCulture));
                    await File.WriteAllTextAsync(keyFile, keys[i].ToBase64());
                    var started = Stopwatch.GetTimestamp();
                    await ShellAsync(AddScript(i, hostName, containerName, prefix + "p", keyFile, peers[i]));
                    script.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                if (round == 0)
                {
                    for (var i = 0; i < 50; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        await ShellAsync("exec wg show all dump >/dev/null");
                        wgShow.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }

                for (var i = 0; i < networks; i++)
                {
                    var n = i.ToString(CultureInfo.InvariantCulture);
                    await ShellAsync($"ip -n {hostName} link del veth-root{n}; ip -n {hostName} link del {prefix}p{n}; ip netns exec {hostName} nft delete table inet bench 2>/dev/null; true");
                }
            }

            Console.WriteLine($"{"",-34} {"p50 ms",9} {"p99 ms",9} {"n",5}");
            // The process's first add also loads and compiles what the others reuse: reported on its own.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"AddNetwork, the process's first",-34} {add[0],9:0.00}"));
            var cold = add[0];
            add.RemoveAt(0);
            Report("AddNetwork (Aether hub), the rest", add);
            Report("add network (ip/wg/nft script)", script);
            Console.WriteLine($"  ratio p50 hub/script: {Percentile(add, 50) / Percentile(script, 50):0.00}x, p99 {Percentile(add, 99) / Percentile(script, 99):0.00}x (first add {cold:0} ms)");
            Report("RemoveNetwork (Aether hub)", remove);
            Report($"GetStatus, {networks} networks (hub)", status);

            if (api is { } a)
            {
                Report("POST /v1/hub/networks, the rest", a.Add);
                Report($"GET /v1/hub/status, {networks} nets", a.Status);
            }

            Report($"wg show all dump, {networks} devices", wgShow);
            return 0;
        }
        finally
        {
            keyDir.Delete(recursive: true);
            foreach (var name in new[] { hostName, containerName })
            {
                if (NetworkNamespace.Exists(name))
                {
                    NetworkNamespace.Delete(name);
                }
            }
        }
    }

    /// <summary>Runs <c>aether serve</c> bound to the benchmark's host namespace, adds the networks through its API,
    /// reads the status, and removes them.</summary>
    private static async Task<(List<double> Add, List<double> Status)> DaemonAsync(string binary, string host, string container, string prefix, int networks, int rounds, WireGuardSecretKey[] keys, WireGuardKey[] peers, string dir)
    {
        var socket = Path.Combine(dir, "aether.sock");
        var psi = new ProcessStartInfo(binary, ["serve", "--socket", socket, "--db", Path.Combine(dir, "aether.db"), "--namespace", host, "--wireguard-prefix", prefix + "d"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("aether serve did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await s.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket), ct);
                return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://aether/") };
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("v1/health")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    await Task.Delay(50);
                }
            }

            var add = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                if (round > 0)
                {
                    for (var i = networks - 1; i >= 0; i--)
                    {
                        using var response = await http.DeleteAsync("v1/hub/networks/net" + i.ToString(CultureInfo.InvariantCulture));
                        response.EnsureSuccessStatusCode();
                    }
                }

                for (var i = 0; i < networks; i++)
                {
                    var body = System.Text.Json.JsonSerializer.Serialize(Request(i, container, keys[i], peers[i]), HubJson.Default.HubNetworkRequest);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await http.PostAsync("v1/hub/networks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
                    add.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if ((int)response.StatusCode != 201)
                    {
                        throw new InvalidOperationException($"POST network {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"POST, the daemon's first",-34} {add[0],9:0.00}"));
            add.RemoveAt(0);

            var status = new List<double>();
            for (var i = 0; i < 200; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var text = await http.GetStringAsync("v1/hub/status");
                status.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (i == 0 && System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("networks").GetArrayLength() != networks)
                {
                    throw new InvalidOperationException("status does not list every network: " + text);
                }
            }

            for (var i = networks - 1; i >= 0; i--)
            {
                using var response = await http.DeleteAsync("v1/hub/networks/net" + i.ToString(CultureInfo.InvariantCulture));
                response.EnsureSuccessStatusCode();
            }

            return (add, status);
        }
        finally
        {
            if (!process.HasExited)
            {
                _ = Libc.Kill(process.Id, Libc.SIGTERM); // as systemd stops the daemon
                if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    process.Kill();
                }
            }
        }
    }

    private static HubNetworkRequest Request(int i, string container, WireGuardSecretKey key, WireGuardKey peer)
    {
        var n = i.ToString(CultureInfo.InvariantCulture);
        return new HubNetworkRequest
        {
            NetworkId = "net" + n,
            Index = i,
            Container = container,
            PrivateKey = key.ToBase64(),
            ListenPort = 40000 + i,
            PeerEndpoint = $"192.0.2.{i + 1}:51820",
            PeerPublicKey = peer.ToString(),
            Address = $"10.{100 + i}.0.2",
            NetworkCidr = $"10.{100 + i}.0.0/24",
            Gateway = $"10.{100 + i}.0.1",
        };
    }

    /// <summary>What the reference's service does for one network, as commands.</summary>
    private static string AddScript(int i, string host, string container, string wgPrefix, string keyFile, WireGuardKey peer)
    {
        var n = i.ToString(CultureInfo.InvariantCulture);
        var wg = wgPrefix + n;
        var cidr = $"10.{100 + i}.0.0/24";
        var gw = $"10.{100 + i}.0.1";
        var addr = $"10.{100 + i}.0.2";
        var lines = new List<string>
        {
            "set -e",
            $"ip -n {host} link add veth-root{n} type veth peer name eth{n} netns {container}",
            // wireguard-go forks into the background; its socket appears when it is ready.
            $"ip netns exec {host} wireguard-go {wg} >/dev/null 2>&1",
            $"while [ ! -S /var/run/wireguard/{wg}.sock ]; do sleep 0.001; done",
            $"wg set {wg} private-key {keyFile} listen-port {40000 + i} peer {peer} endpoint 192.0.2.{i + 1}:51820 allowed-ips {cidr}",
            $"ip -n {host} link set {wg} up",
            $"ip -n {host} link set veth-root{n} up",
            $"ip -n {host} addr add {gw}/32 dev veth-root{n}",
            $"ip -n {host} route add {addr}/32 dev veth-root{n}",
            $"ip -n {host} route add {cidr} dev {wg}",
            $"ip -n {container} link set eth{n} up",
            $"ip -n {container} addr add {addr}/32 dev eth{n}",
            $"ip -n {container} route add {cidr} via {gw} dev eth{n} onlink",
            $"ip netns exec {host} sysctl -qw net.ipv4.ip_forward=1",
        };
        if (i == 0)
        {
            lines.Add($"ip -n {container} route add default via {gw} dev eth{n} onlink");
            lines.Add($"ip netns exec {host} nft 'add table inet bench; add chain inet bench post {{ type nat hook postrouting priority srcnat; }}; add rule inet bench post ip saddr {cidr} oifname != {{ \"{wg}\", \"veth-root{n}\" }} masquerade'");
        }

        return string.Join('\n', lines);
    }

    private static async Task ShellAsync(string script)
    {
        var psi = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"script failed ({process.ExitCode}): {stderr}\n{script}");
        }
    }

    /// <summary>Each phase timed during the adds and removes: how often, its p50 and p99, and its time per call.</summary>
    private static void PrintPhases(System.Collections.Concurrent.ConcurrentDictionary<string, List<double>> phases, int calls)
    {
        Console.WriteLine($"{"phase (adds and removes)",-44} {"n",5} {"p50 ms",8} {"p99 ms",8} {"ms/call",8}");
        foreach (var (name, values) in phases.OrderByDescending(p => p.Value.Sum()))
        {
            lock (values)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {values.Count,5} {Percentile(values, 50),8:0.00} {Percentile(values, 99),8:0.00} {values.Sum() / calls,8:0.00}"));
            }
        }
    }

    private static void Report(string what, List<double> values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-34} {Percentile(values, 50),9:0.00} {Percentile(values, 99),9:0.00} {values.Count,5}"));

    private static double Percentile(List<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }
}

/// <summary>The request's JSON as the daemon reads it (camelCase), without reflection.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HubNetworkRequest))]
internal sealed partial class HubJson : System.Text.Json.Serialization.JsonSerializerContext;
