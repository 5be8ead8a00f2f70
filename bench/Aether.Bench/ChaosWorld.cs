using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>
/// One chaos scenario's objects, all named with a unique prefix (<c>aetXXXX</c>): a topology of N namespaces
/// (<c>PREFIXnI</c>, each with a veth <c>PREFIXvI</c> ↔ <c>eth0</c>, addresses on both ends, a sysctl, NAT in every
/// fifth), its state directory, and foreign objects Aether is not told about (<c>PREFIXf…</c>): a namespace with a
/// veth to the host, addresses, a route and an nftables table; a bridge with an address on the host; optionally a
/// dummy with an address inside some of the topology's namespaces. Disposing removes everything with the prefix.
/// </summary>
internal sealed class ChaosWorld : IAsyncDisposable
{
    private readonly List<int> _foreignInside = [];

    private ChaosWorld(string cli, int namespaces)
    {
        Cli = cli;
        Namespaces = namespaces;
        Prefix = "aet" + Guid.NewGuid().ToString("N")[..4];
        State = Directory.CreateTempSubdirectory("aether-chaos-").FullName;
        File = Path.Combine(State, "topology.yaml");
        Octet = Random.Shared.Next(100, 190);
    }

    /// <summary>The CLI binary.</summary>
    public string Cli { get; }

    /// <summary>The prefix of every object's name, and the topology's name.</summary>
    public string Prefix { get; }

    /// <summary>How many namespaces the topology has.</summary>
    public int Namespaces { get; }

    /// <summary>The state directory (the topology file lives there too).</summary>
    public string State { get; }

    /// <summary>The topology file.</summary>
    public string File { get; }

    private int Octet { get; }

    public string Ns(int i) => Prefix + "n" + i.ToString(CultureInfo.InvariantCulture);

    public string HostLink(int i) => Prefix + "v" + i.ToString(CultureInfo.InvariantCulture);

    public static bool HasNat(int i) => i % 5 == 0;

    /// <summary>The host end's address of namespace <paramref name="i"/>'s veth (the namespace end is the next one).</summary>
    public string HostAddress(int i, int end = 1) => string.Create(CultureInfo.InvariantCulture, $"10.{Octet}.{i / 64}.{(i % 64) * 4 + end}");

    public string ForeignNs => Prefix + "f0";

    /// <summary>Writes the topology and makes the foreign objects; <paramref name="foreignInside"/> namespaces of the
    /// topology (the last ones) get a foreign bridge once they exist (see <see cref="AddForeignInsideAsync"/>).</summary>
    public static async Task<ChaosWorld> CreateAsync(string cli, int namespaces, int foreignInside = 0)
    {
        var world = new ChaosWorld(cli, namespaces);
        try
        {
            await System.IO.File.WriteAllTextAsync(world.File, world.Yaml());
            for (var i = namespaces - foreignInside; i < namespaces; i++)
            {
                world._foreignInside.Add(i);
            }

            await world.MakeForeignAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private string Yaml()
    {
        var yaml = new StringBuilder($"name: {Prefix}\nnamespaces:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: {Ns(i)}\n    sysctls: {{ net.ipv4.ip_forward: \"1\" }}\n");
            if (HasNat(i))
            {
                yaml.Append(CultureInfo.InvariantCulture, $"    nat: [{{ masquerade: {{ source: {HostAddress(i, 0)}/30, out: eth0 }} }}]\n");
            }
        }

        yaml.Append("links:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - {{ name: {HostLink(i)}, kind: veth, up: true, addresses: [{HostAddress(i)}/30], peer: {{ name: eth0, namespace: {Ns(i)}, addresses: [{HostAddress(i, 2)}/30] }} }}\n");
        }

        return yaml.ToString();
    }

    private async Task MakeForeignAsync()
    {
        string ns = ForeignNs, host = Prefix + "fh", dummy = Prefix + "fd";
        await ChaosShell.IpOrThrowAsync("netns", "add", ns);
        await ChaosShell.IpOrThrowAsync("link", "add", host, "type", "veth", "peer", "name", Prefix + "fp", "netns", ns);
        await ChaosShell.IpOrThrowAsync("link", "set", host, "addrgenmode", "none");
        await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", Prefix + "fp", "addrgenmode", "none");
        await ChaosShell.IpOrThrowAsync("addr", "add", "198.18.250.1/30", "dev", host);
        await ChaosShell.IpOrThrowAsync("-n", ns, "addr", "add", "198.18.250.2/30", "dev", Prefix + "fp");
        await ChaosShell.IpOrThrowAsync("link", "set", host, "up");
        await ChaosShell.IpOrThrowAsync("-n", ns, "link", "set", Prefix + "fp", "up");
        await ChaosShell.IpOrThrowAsync("-n", ns, "route", "add", "default", "via", "198.18.250.1");
        await ChaosShell.IpOrThrowAsync("link", "add", dummy, "type", "bridge");
        await ChaosShell.IpOrThrowAsync("link", "set", dummy, "addrgenmode", "none");
        await ChaosShell.IpOrThrowAsync("addr", "add", "198.18.251.1/32", "dev", dummy);
        var nft = await ChaosShell.RunAsync("ip", ["netns", "exec", ns, "nft", "-f", "-"], stdin: $"table inet {Prefix}f {{\n chain post {{\n type nat hook postrouting priority 100; oifname \"{Prefix}fp\" masquerade\n }}\n}}\n");
        if (nft.Code != 0)
        {
            throw new InvalidOperationException("nft: " + nft);
        }
    }

    /// <summary>A foreign bridge <c>PREFIXfx</c> with an address in each namespace chosen at creation (they must exist).</summary>
    public async Task AddForeignInsideAsync()
    {
        foreach (var i in _foreignInside)
        {
            await ChaosShell.IpOrThrowAsync("-n", Ns(i), "link", "add", Prefix + "fx", "type", "bridge");
            await ChaosShell.IpOrThrowAsync("-n", Ns(i), "link", "set", Prefix + "fx", "addrgenmode", "none");
            await ChaosShell.IpOrThrowAsync("-n", Ns(i), "addr", "add", "198.18.252.1/32", "dev", Prefix + "fx");
        }
    }

    /// <summary>The foreign objects as <c>ip -j</c> and <c>nft -j</c> print them, by what was asked.</summary>
    public async Task<Dictionary<string, string>> SnapshotForeignAsync()
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host links"] = Stable(Filter(await ChaosShell.IpOrThrowAsync("-j", "-d", "link", "show"), "ifname")),
            ["host addresses"] = Filter(await ChaosShell.IpOrThrowAsync("-j", "addr", "show"), "ifname"),
            ["namespaces"] = Filter(await ChaosShell.IpOrThrowAsync("-j", "netns", "list"), "name"),
            ["foreign links"] = Stable(await ChaosShell.IpOrThrowAsync("-n", ForeignNs, "-j", "-d", "link", "show")),
            ["foreign addresses"] = await ChaosShell.IpOrThrowAsync("-n", ForeignNs, "-j", "addr", "show"),
            ["foreign routes"] = await ChaosShell.IpOrThrowAsync("-n", ForeignNs, "-j", "route", "show", "table", "all"),
            ["foreign nftables"] = (await ChaosShell.RunAsync("ip", ["netns", "exec", ForeignNs, "nft", "-j", "list", "ruleset"])).Stdout,
        };
        foreach (var i in _foreignInside)
        {
            var link = await ChaosShell.IpAsync("-n", Ns(i), "-j", "-d", "link", "show", "dev", Prefix + "fx");
            var address = await ChaosShell.IpAsync("-n", Ns(i), "-j", "addr", "show", "dev", Prefix + "fx");
            snapshot["inside " + Ns(i)] = Stable(link.Stdout) + address.Stdout + (link.Code == 0 ? string.Empty : "gone");
        }

        return snapshot;
    }

    /// <summary><c>ip -j</c> output without what changes by itself: a bridge's running timers (<c>hello_timer</c>,
    /// <c>gc_timer</c>…, counting down whatever anyone does).</summary>
    public static string Stable(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return string.Empty;
        }

        var node = System.Text.Json.Nodes.JsonNode.Parse(json);
        Strip(node);
        return node?.ToJsonString() ?? string.Empty;

        static void Strip(System.Text.Json.Nodes.JsonNode? node)
        {
            switch (node)
            {
                case System.Text.Json.Nodes.JsonObject o:
                    foreach (var key in o.Select(p => p.Key).Where(k => k.EndsWith("_timer", StringComparison.Ordinal)).ToList())
                    {
                        o.Remove(key);
                    }

                    foreach (var (_, value) in o)
                    {
                        Strip(value);
                    }

                    break;
                case System.Text.Json.Nodes.JsonArray a:
                    foreach (var item in a)
                    {
                        Strip(item);
                    }

                    break;
            }
        }
    }

    /// <summary>The names of what differs between two snapshots.</summary>
    public static List<string> Changed(Dictionary<string, string> before, Dictionary<string, string> after) =>
        [.. before.Keys.Union(after.Keys).Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))];

    /// <summary>Keeps the foreign entries (<c>PREFIXf…</c>) of an <c>ip -j</c> array.</summary>
    private string Filter(string json, string field)
    {
        using var doc = ChaosShell.IpJson(json.Length == 0 ? "[]" : json);
        return "[" + string.Join(",", doc.RootElement.EnumerateArray()
            .Where(e => e.TryGetProperty(field, out var name) && name.GetString()!.StartsWith(Prefix + "f", StringComparison.Ordinal))
            .Select(e => e.GetRawText())) + "]";
    }

    /// <summary>Owned objects nothing desires: with <paramref name="applied"/> false (after a destroy), every object of the
    /// topology still there; with it true, namespaces of the prefix the topology does not name, and links carrying the
    /// topology's mark (<c>aether:PREFIX</c>) under a name it does not desire, on the host and in its namespaces.</summary>
    public async Task<List<string>> OrphansAsync(bool applied)
    {
        var orphans = new List<string>();
        var desiredNs = Enumerable.Range(0, Namespaces).Select(Ns).ToHashSet(StringComparer.Ordinal);
        var desiredHost = Enumerable.Range(0, Namespaces).Select(HostLink).ToHashSet(StringComparer.Ordinal);
        var files = Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns", Prefix + "*").Select(Path.GetFileName).ToList() : [];
        foreach (var name in files)
        {
            if (!name!.StartsWith(Prefix + "f", StringComparison.Ordinal) && (!applied || !desiredNs.Contains(name)))
            {
                orphans.Add("namespace " + name);
            }
        }

        var mark = "aether:" + Prefix;
        using (var links = ChaosShell.IpJson(await ChaosShell.IpOrThrowAsync("-j", "-d", "link", "show")))
        {
            foreach (var link in links.RootElement.EnumerateArray())
            {
                var name = link.GetProperty("ifname").GetString()!;
                var alias = link.TryGetProperty("ifalias", out var a) ? a.GetString() : null;
                var ours = alias == mark || (name.StartsWith(Prefix, StringComparison.Ordinal) && !name.StartsWith(Prefix + "f", StringComparison.Ordinal));
                if (ours && (!applied || !desiredHost.Contains(name)))
                {
                    orphans.Add("host link " + name);
                }
            }
        }

        if (applied)
        {
            foreach (var ns in desiredNs.Where(n => files.Contains(n)))
            {
                var list = await ChaosShell.IpAsync("-n", ns, "-j", "-d", "link", "show");
                if (list.Code != 0)
                {
                    continue;
                }

                using var links = ChaosShell.IpJson(list.Stdout);
                orphans.AddRange(links.RootElement.EnumerateArray()
                    .Where(l => l.TryGetProperty("ifalias", out var a) && a.GetString() == mark && l.GetProperty("ifname").GetString() != "eth0")
                    .Select(l => $"link {l.GetProperty("ifname").GetString()} in {ns}"));
            }
        }

        return orphans;
    }

    /// <summary>Runs <c>aether VERB -f FILE --state-dir STATE ARGS</c> to its end; returns the result and how long it took.</summary>
    public async Task<(ChaosOutput Output, double Ms)> CliAsync(string verb, params string[] args)
    {
        var started = Stopwatch.GetTimestamp();
        var output = await ChaosShell.RunAsync(Cli, [verb, "-f", File, "--state-dir", State, .. args], TimeSpan.FromMinutes(5));
        return (output, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Starts <c>aether VERB -f FILE --state-dir STATE ARGS</c> in a process group of its own.</summary>
    public Process StartCli(string verb, params string[] args) => ChaosShell.StartGroup(Cli, [verb, "-f", File, "--state-dir", State, .. args]);

    /// <summary>Starts <c>aether run</c> and waits for its <c>running:</c> line (the first apply done, the loops
    /// starting); its later output is kept in <paramref name="lines"/>.</summary>
    public async Task<Process> StartRunAsync(List<string> lines, params string[] args)
    {
        var run = StartCli("run", args);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        run.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }

                if (line.StartsWith("running:", StringComparison.Ordinal))
                {
                    running.TrySetResult();
                }
            }
        };
        run.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (lines)
                {
                    lines.Add("stderr: " + line);
                }
            }
        };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        var exited = run.WaitForExitAsync();
        if (await Task.WhenAny(running.Task, exited, Task.Delay(TimeSpan.FromMinutes(2))) != running.Task)
        {
            await ChaosShell.KillGroupAsync(run);
            lock (lines)
            {
                throw new InvalidOperationException("aether run did not start: " + string.Join(" | ", lines.TakeLast(5)));
            }
        }

        return run;
    }

    /// <summary>Whether <c>aether diff</c> finds everything in sync (exit 0).</summary>
    public async Task<bool> InSyncAsync() => (await CliAsync("diff")).Output.Code == 0;

    /// <summary>Polls <c>aether diff</c> until in sync; the time from the call, or null after <paramref name="timeout"/>.</summary>
    public async Task<double?> UntilInSyncAsync(TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            if (await InSyncAsync())
            {
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            await Task.Delay(20);
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _ = await CliAsync("destroy");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // removed by name below
        }

        if (Directory.Exists("/run/netns"))
        {
            foreach (var file in Directory.GetFiles("/run/netns", Prefix + "*"))
            {
                _ = await ChaosShell.IpAsync("netns", "del", Path.GetFileName(file));
            }
        }

        using (var links = ChaosShell.IpJson(await ChaosShell.IpOrThrowAsync("-j", "link", "show")))
        {
            foreach (var name in links.RootElement.EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
            {
                _ = await ChaosShell.IpAsync("link", "del", name);
            }
        }

        Directory.Delete(State, recursive: true);
        System.IO.File.Delete($"/run/aether/{Prefix}.lock"); // the CLI's lock file for the topology
    }
}
