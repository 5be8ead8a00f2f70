using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>
/// <c>kill -9</c> of the daemon (<c>aether serve</c>, its hub bound to a private host namespace) at a random point of
/// <c>POST /v1/hub/networks</c>: the daemon started again and the same request sent again converges (201 or 200, the
/// wg device, veth-root and eth ends up in both namespaces); removing it leaves no link, nftables table or
/// <c>wireguard-go</c> of the hub behind; foreign objects in both namespaces stay as they were.
/// </summary>
internal static class ChaosHub
{
    public static async Task<ChaosRow> AddNetworkAsync(string cli, int kills)
    {
        var prefix = "aet" + Guid.NewGuid().ToString("N")[..4];
        string host = prefix + "h", container = prefix + "c", wg = prefix + "w";
        var dir = Directory.CreateTempSubdirectory("aether-chaos-hub-").FullName;
        var failures = new List<string>();
        Process? daemon = null;
        try
        {
            await ChaosShell.IpOrThrowAsync("netns", "add", host);
            await ChaosShell.IpOrThrowAsync("netns", "add", container);
            foreach (var ns in new[] { host, container })
            {
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "add", prefix + "fd", "type", "bridge");
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", prefix + "fd", "addrgenmode", "none");
                await ChaosShell.IpOrThrowAsync("-n", ns, "addr", "add", "198.18.253.1/32", "dev", prefix + "fd");
                await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", prefix + "fd", "up");
            }

            var baseline = await ForeignAsync(prefix, host, container);
            var body = Request(container);
            daemon = await StartAsync(cli, dir, host, wg);
            var uninterrupted = await PostAsync(dir, body);
            if (uninterrupted.Status != 201)
            {
                throw new InvalidOperationException($"the uninterrupted AddNetwork: {uninterrupted.Status}");
            }

            await DeleteAsync(dir);
            int converged = 0, orphans = 0, foreignChanged = 0, killed = 0;
            var recovery = new List<double>();
            for (var trial = 0; trial < kills; trial++)
            {
                var post = PostAsync(dir, body);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * uninterrupted.Ms));
                killed += await ChaosShell.KillGroupAsync(daemon) ? 1 : 0;
                try
                {
                    _ = await post;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    // cut short by the kill
                }

                daemon.Dispose();
                daemon = await StartAsync(cli, dir, host, wg);
                var again = await PostAsync(dir, body);
                recovery.Add(again.Ms);
                var whole = again.Status is 200 or 201 && await WholeAsync(host, container, wg);
                var deleted = await DeleteAsync(dir);
                var left = await LeftAsync(prefix, host, container, wg);
                var foreign = ChaosWorld.Changed(baseline, await ForeignAsync(prefix, host, container));
                converged += whole && deleted ? 1 : 0;
                orphans += left.Count;
                foreignChanged += foreign.Count > 0 ? 1 : 0;
                if (!whole || !deleted || left.Count > 0 || foreign.Count > 0)
                {
                    failures.Add($"trial {trial}: POST again {again.Status}, whole {whole}, deleted {deleted}; left [{string.Join(", ", left)}]; foreign changed [{string.Join(", ", foreign)}]");
                }
            }

            recovery.Sort();
            var times = recovery.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
                $"uninterrupted {uninterrupted.Ms:0} ms; killed mid-way {killed}/{kills}; POST after restart p50 {ChaosBench.Percentile(recovery, 0.5):0} ms, max {recovery[^1]:0} ms");
            return new ChaosRow("kill -9 in hub AddNetwork (daemon)", kills, converged, orphans, foreignChanged, times, failures);
        }
        finally
        {
            if (daemon is not null)
            {
                await ChaosShell.TerminateAsync(daemon);
                daemon.Dispose();
            }

            foreach (var ns in new[] { host, container })
            {
                _ = await ChaosShell.IpAsync("netns", "del", ns);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Request(string container) => $$"""
        {"networkId":"net0","index":0,"container":"{{container}}","privateKey":"{{Key()}}","listenPort":{{Random.Shared.Next(41000, 42000)}},
         "peerEndpoint":"192.0.2.1:51820","peerPublicKey":"{{Key()}}","address":"10.100.0.2","networkCidr":"10.100.0.0/24","gateway":"10.100.0.1"}
        """;

    /// <summary>A random key in WireGuard's base64 form (a Curve25519 private key, clamped).</summary>
    internal static string Key()
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        key[0] &= 248;
        key[31] = (byte)((key[31] & 127) | 64);
        return Convert.ToBase64String(key);
    }

    internal static async Task<Process> StartAsync(string cli, string dir, string host, string wg, params string[] extra)
    {
        var daemon = ChaosShell.StartGroup(cli, ["serve", "--socket", Path.Combine(dir, "aether.sock"), "--db", Path.Combine(dir, "aether.db"), "--state-dir", dir, "--namespace", host, "--wireguard-prefix", wg, .. extra]);
        daemon.OutputDataReceived += (_, _) => { };
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var http = Client(dir);
                if ((await http.GetAsync("v1/health")).IsSuccessStatusCode)
                {
                    return daemon;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !daemon.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    private static HttpClient Client(string dir) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(dir, "aether.sock")), ct);
            return new NetworkStream(s, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://aether/"), Timeout = TimeSpan.FromSeconds(60) };

    internal static async Task<(int Status, double Ms)> PostAsync(string dir, string body)
    {
        using var http = Client(dir);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("v1/hub/networks", new StringContent(body, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    internal static async Task<bool> DeleteAsync(string dir, string network = "net0")
    {
        using var http = Client(dir);
        using var response = await http.DeleteAsync("v1/hub/networks/" + network);
        return (int)response.StatusCode == 204;
    }

    /// <summary>wg device, veth-root and the container's eth: present and up (checked with <c>ip -j</c>).</summary>
    private static async Task<bool> WholeAsync(string host, string container, string wg)
    {
        var hostLinks = await LinksAsync(host);
        var containerLinks = await LinksAsync(container);
        return Up(hostLinks, wg + "0") && Up(hostLinks, "veth-root0") && Up(containerLinks, "eth0");

        static bool Up(List<(string Name, bool Up)> links, string name) => links.Any(l => l.Name == name && l.Up);
    }

    /// <summary>What the hub left after the network's removal: links but the loopback and the foreign bridge, an
    /// nftables table in the host namespace, a wireguard-go socket.</summary>
    private static async Task<List<string>> LeftAsync(string prefix, string host, string container, string wg)
    {
        var left = new List<string>();
        foreach (var ns in new[] { host, container })
        {
            left.AddRange((await LinksAsync(ns)).Select(l => l.Name).Where(n => n is not "lo" && n != prefix + "fd").Select(n => $"link {n} in {ns}"));
        }

        var tables = await ChaosShell.RunAsync("ip", ["netns", "exec", host, "nft", "list", "tables"]);
        left.AddRange(tables.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(t => $"{t} in {host}"));
        if (File.Exists($"/var/run/wireguard/{wg}0.sock"))
        {
            left.Add($"wireguard-go socket {wg}0");
        }

        return left;
    }

    private static async Task<List<(string Name, bool Up)>> LinksAsync(string ns)
    {
        using var doc = ChaosShell.IpJson(await ChaosShell.IpOrThrowAsync("-n", ns, "-j", "link", "show"));
        return [.. doc.RootElement.EnumerateArray().Select(l => (l.GetProperty("ifname").GetString()!, l.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP")))];
    }

    private static async Task<Dictionary<string, string>> ForeignAsync(string prefix, string host, string container)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var ns in new[] { host, container })
        {
            snapshot["link in " + ns] = ChaosWorld.Stable(await ChaosShell.IpOrThrowAsync("-n", ns, "-j", "-d", "link", "show", "dev", prefix + "fd"));
            snapshot["addresses in " + ns] = await ChaosShell.IpOrThrowAsync("-n", ns, "-j", "addr", "show", "dev", prefix + "fd");
        }

        return snapshot;
    }
}
