using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aether.Labs.Supervision;
using Xunit.Abstractions;

namespace Aether.Labs.Tests.Supervision;

/// <summary>
/// The example lab <c>examples/labs/frr-ospf.yaml</c> for real: deployed by the lab engine (two nodes joined by a
/// veth pair, verified up), each running the exec the lab file gives its node, supervised, from
/// the lab file's directory; OSPF must bring each router's loopback to the other (<c>ip -j route</c>, protocol ospf)
/// and a ping must cross between the loopbacks. Needs Debian's frr 8.4 (test.sh installs it).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FrrOspfLabTests(ITestOutputHelper output) : NodeProcessTest
{
    private static readonly TimeSpan ConvergenceLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TwoRoutersLearnEachOthersLoopbackOverOspf()
    {
        Assert.True(File.Exists("/usr/lib/frr/zebra") && File.Exists("/usr/lib/frr/ospfd"), "FRR is not installed (apt-get install frr): test.sh installs it");
        var labFile = Path.Combine(RepositoryRoot(), "examples", "labs", "frr-ospf.yaml");
        var lab = ReadLab(labFile);
        Assert.Equal(["r1", "r2"], lab.Nodes.Select(n => n.Name));
        foreach (var node in lab.Nodes)
        {
            Box.TrackNamespace(node.Namespace);
        }

        // The lab deployed by the lab engine (its nodes TOKEN-r1 and TOKEN-r2, the link r1:eth1 - r2:eth1), verified up.
        await using var store = Aether.Labs.Store.LabStore.Open(null, Path.Combine(Dir, "engine"));
        await store.MigrateAsync();
        var controller = new LabController(lab, store, new LabOptions { StateDirectory = Path.Combine(Dir, "engine") });
        var deployed = await controller.DeployAsync(File.ReadAllText(labFile));
        Assert.True(deployed.AllUp, deployed.Error + string.Join("; ", deployed.Links.Select(l => l.Error)));
        var namespaces = lab.Nodes.ToDictionary(n => n.Name, n => n.Namespace, StringComparer.Ordinal);
        var (r1, r2) = (namespaces["r1"], namespaces["r2"]);

        // Each node's exec, started as the lab engine will: from the lab file's directory, logging to
        // STATE/labs/LAB/NODE.log. TMPDIR points run-frr.sh's runtime directory into the test's own.
        // The daemons run as user frr, who must reach their runtime directory: the temp directory is private (0700).
        File.SetUnixFileMode(Dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var state = Path.Combine(Dir, "state");
        var watch = Stopwatch.StartNew();
        var processes = new Dictionary<string, NodeProcess>(StringComparer.Ordinal);
        foreach (var node in lab.Nodes)
        {
            var spec = NodeProcessSpec.ForNode(lab, node, state) with
            {
                Environment = new Dictionary<string, string> { ["TMPDIR"] = Dir },
            };
            using var ns = Aether.Netlink.Namespaces.NetworkNamespace.Open(namespaces[node.Name]);
            processes[node.Name] = Box.Own(NodeProcess.Start(ns, spec, SupervisionPolicy.Default));
            Assert.Equal(NodeProcessState.Running, processes[node.Name].Status.State);
        }

        var learned = await WaitForOspfRoutesAsync(r1, "10.255.0.2", r2, "10.255.0.1", processes);
        var converged = watch.Elapsed;
        output.WriteLine($"OSPF converged {converged.TotalSeconds:0.0} s after the two routers were started (routes: r1 {learned.R1}; r2 {learned.R2})");

        var ping = await PingAsync(r1, "10.255.0.1", "10.255.0.2");
        Assert.True(ping.Code == 0, $"ping r1 10.255.0.1 -> r2 10.255.0.2 failed: {ping.Stdout}{ping.Stderr}");

        // The daemons run inside their node's namespace, and are this test's (their runtime files are in its
        // directory): found by their command lines.
        var daemons = FrrProcesses();
        Assert.Equal(4, daemons.Count);
        foreach (var (pid, cmdline) in daemons)
        {
            var node = cmdline.Contains("/frr/r1/", StringComparison.Ordinal) ? "r1" : "r2";
            Assert.Equal(await Ip.InodeInsideAsync(namespaces[node]), NetInodeOf(pid));
        }

        // Stopping the lab stops every daemon (run-frr.sh stops both on SIGTERM), within the grace.
        var stopping = Stopwatch.StartNew();
        await Task.WhenAll(processes.Values.Select(p => p.StopAsync()));
        output.WriteLine($"both routers stopped in {stopping.Elapsed.TotalSeconds:0.00} s");
        Assert.Empty(FrrProcesses());
        foreach (var (name, process) in processes)
        {
            Assert.Equal(new ProcessExit(143, null), process.Status.LastExit); // the wrapper's status after SIGTERM
            Assert.Equal(0, process.Status.Restarts);
            var log = Lines(process.Spec.LogPath);
            Assert.Contains(log, l => l.Contains("zebra 8.4", StringComparison.Ordinal) && l.Contains("starting", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("ospfd 8.4", StringComparison.Ordinal) && l.Contains("starting", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("aether: stopped pid", StringComparison.Ordinal) && l.EndsWith("exit status 143", StringComparison.Ordinal));
            Assert.Equal(NodeProcessSpec.LogPathOf(state, lab.Name, name), process.Spec.LogPath);
            output.WriteLine($"{name}.log, the supervisor's lines:");
            foreach (var line in log.Where(l => l.Contains(" aether: ", StringComparison.Ordinal)))
            {
                output.WriteLine("  " + line);
            }
        }
    }

    /// <summary>Waits (up to 60 s) until each namespace has the other's loopback as an OSPF route; returns them as
    /// <c>ip -j route</c> printed them.</summary>
    private static async Task<(string R1, string R2)> WaitForOspfRoutesAsync(string r1, string toR2, string r2, string toR1, Dictionary<string, NodeProcess> processes)
    {
        var deadline = DateTime.UtcNow + ConvergenceLimit;
        while (true)
        {
            var a = await OspfRouteAsync(r1, toR2);
            var b = await OspfRouteAsync(r2, toR1);
            if (a is not null && b is not null)
            {
                return (a, b);
            }

            if (DateTime.UtcNow > deadline)
            {
                var logs = string.Join("\n", processes.Select(p => $"--- {p.Key}: {p.Value.Status}\n" + string.Join("\n", Lines(p.Value.Spec.LogPath).TakeLast(30))));
                Assert.Fail($"no OSPF routes within {ConvergenceLimit.TotalSeconds} s (r1 -> {toR2}: {a ?? "none"}, r2 -> {toR1}: {b ?? "none"})\n{logs}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<string?> OspfRouteAsync(string ns, string destination)
    {
        foreach (var route in await Ip.JsonAsync(ns, "route"))
        {
            if (Ip.Str(route, "dst") == destination && Ip.Str(route, "protocol") == "ospf")
            {
                return JsonSerializer.Serialize(route);
            }
        }

        return null;
    }

    /// <summary>Pings once (three tries: a first packet may wait for ARP), from <paramref name="source"/>, so that
    /// both routes, there and back, are used.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> PingAsync(string ns, string source, string destination)
    {
        (int Code, string Stdout, string Stderr) result = default;
        for (var i = 0; i < 3 && (i == 0 || result.Code != 0); i++)
        {
            result = await Ip.RunInAsync(ns, "ping", "-c", "1", "-W", "2", "-I", source, destination);
        }

        return result;
    }

    /// <summary>zebra and ospfd processes whose command line points into this test's directory.</summary>
    private List<(int Pid, string Cmdline)> FrrProcesses()
    {
        var found = new List<(int, string)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var comm = File.ReadAllText(entry + "/comm").Trim();
                var cmdline = File.ReadAllText(entry + "/cmdline").Replace('\0', ' ');
                if (comm is "zebra" or "ospfd" && cmdline.Contains(Dir, StringComparison.Ordinal) && !IsGone(pid))
                {
                    found.Add((pid, cmdline));
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }

        return found;
    }

    /// <summary>The example lab file read by the lab loader, under the test's token as its name (so its nodes are
    /// TOKEN-r1 and TOKEN-r2), and kept pointing at the file (its execs run from the file's directory).</summary>
    private LabSpec ReadLab(string path)
    {
        var text = File.ReadAllText(path);
        Assert.Contains("\nname: frr\n", text, StringComparison.Ordinal);
        var loaded = LabLoader.Parse(text.Replace("\nname: frr\n", $"\nname: {Box.Token}\n", StringComparison.Ordinal), path);
        Assert.Empty(loaded.Errors);
        Assert.Equal([("r1:eth1", "r2:eth1")], loaded.Lab!.Links.Select(l => (l.A.Key, l.B.Key)));
        return loaded.Lab with { SourcePath = path };
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aether.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no Aether.slnx above " + AppContext.BaseDirectory);
    }
}
