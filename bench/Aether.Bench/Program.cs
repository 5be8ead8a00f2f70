using System.Globalization;
using Aether.Bench;

return args switch
{
    ["workload", "--n", var n, "--prefix", var prefix] => await Workload.RunAsync(int.Parse(n, CultureInfo.InvariantCulture), prefix),
    ["compare", .. var rest] => await Compare.RunAsync(
        Option(rest, "--n", "50,200,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
        int.Parse(Option(rest, "--runs", "3"), CultureInfo.InvariantCulture),
        Option(rest, "--peers", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)),
    ["writer", .. var rest] => WriterBenchmarks.Run(rest),
    ["heal", .. var rest] => await ReconcileBench.HealAsync(int.Parse(Option(rest, "--trials", "200"), CultureInfo.InvariantCulture)),
    ["idle", .. var rest] => await ReconcileBench.IdleAsync(int.Parse(Option(rest, "--n", "1000"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--seconds", "60"), CultureInfo.InvariantCulture), TimeSpan.FromSeconds(double.Parse(Option(rest, "--resync", "30"), CultureInfo.InvariantCulture)), rest.Contains("--all-sources")),
    ["watch-latency", .. var rest] => await WatchBench.RunAsync(int.Parse(Option(rest, "--trials", "200"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--idle", "10"), CultureInfo.InvariantCulture)),
    ["watch-latency-case", .. var rest] => await WatchBench.RunCaseAsync(Option(rest, "--case", "present"), int.Parse(Option(rest, "--trials", "200"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--idle", "10"), CultureInfo.InvariantCulture)),
    ["hub", .. var rest] => await HubBench.RunAsync(int.Parse(Option(rest, "--networks", "16"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--rounds", "5"), CultureInfo.InvariantCulture), Option(rest, "--daemon", string.Empty) is { Length: > 0 } daemon ? daemon : null),
    ["netns-heal", .. var rest] => await NetnsHealBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--trials", "50"), CultureInfo.InvariantCulture)),
    ["run-footprint", .. var rest] => await RunFootprintBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--n", "1000"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--seconds", "60"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--heal", "100"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--trials", "30"), CultureInfo.InvariantCulture)),
    ["lab", .. var rest] => await LabBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--nodes", "100"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--trials", "100"), CultureInfo.InvariantCulture)),
    ["lab-hosts", .. var rest] => await LabHostsBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--per-host", "30"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--trials", "20"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--repairs", "20"), CultureInfo.InvariantCulture), int.Parse(Option(rest, "--slow-repairs", "3"), CultureInfo.InvariantCulture), Option(rest, "--fabric", "veth")),
    ["lab-transport", .. var rest] => await LabTransportBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--links", "4"), CultureInfo.InvariantCulture)),
    ["chaos-fuzz", .. var rest] => await FuzzCommand.RunAsync(rest),
    ["chaos-soak", .. var rest] => await SoakCommand.RunAsync(rest),
    ["chaos", .. var rest] => await ChaosBench.RunAsync(ChaosOptions.Parse(rest)),
    ["docker-attach", .. var rest] => await DockerAttachBench.RunAsync(Option(rest, "--cli", ".build/aether/aether"), int.Parse(Option(rest, "--trials", "50"), CultureInfo.InvariantCulture)),
    ["load", .. var rest] => await LoadBench.RunAsync(
        Option(rest, "--n", "250,1000,4000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
        double.Parse(Option(rest, "--seconds", "4"), CultureInfo.InvariantCulture)),
    ["noop-pass", .. var rest] => await ReconcileBench.NoOpPassAsync(int.Parse(Option(rest, "--n", "1000"), CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static string Option(string[] args, string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: aether-bench compare [--n 50,200,1000] [--runs 3] [--peers aether,go-netlink,pyroute2,iproute2-batch]
               aether-bench writer [--long]    (BenchmarkDotNet: message building time and allocations)
               aether-bench heal [--trials 200]          (reconcile: heal latency after `ip link del`)
               aether-bench netns-heal [--trials 50] [--cli .build/aether/aether]  (aether run: `ip netns del` to the namespace and everything in it back)
               aether-bench run-footprint [--n 1000] [--seconds 60] [--heal 100] [--trials 30] [--cli .build/aether/aether]
                                                      (aether run over N namespaces: idle threads, RSS, fds, CPU; heal of --heal host ends deleted at once; single-deletion heal p50/p99)
               aether-bench docker-attach [--trials 50] [--cli .build/aether/aether]   (docker network connect to ethN up: the Aether driver beside docker's bridge)
               aether-bench load [--n 250,1000,4000] [--seconds 4]   (topology files loaded in process, warm: ms and bytes per load, by stage; no kernel)
               aether-bench noop-pass [--n 1000]         (reconcile: a pass with nothing to do over N namespaces)
               aether-bench idle [--n 1000] [--seconds 60] [--resync 30] [--all-sources](reconcile: CPU of N converged loops at the default resync)
               aether-bench watch-latency [--trials 200] [--idle 10]  (namespace discovery: NamespaceWatcher vs inotifywait vs a 1 s poll)
               aether-bench hub [--networks 16] [--rounds 5] [--daemon PATH-OF-aether]   (WireGuard hub: AddNetwork and status latency, in process and through the daemon's API, vs an ip/wg/nft script)
               aether-bench lab [--nodes 100] [--trials 100] [--cli .build/aether/aether]  (labs: deploy N nodes / 1.5N links vs Mininet and an ip script; verification pass; hint-path repair)
               aether-bench lab-hosts [--per-host 30] [--trials 20] [--repairs 20] [--slow-repairs 3] [--fabric veth|ovs] [--cli .build/aether/aether]
                                                      (labs across hosts: 3 simulated hosts, agent processes, a private PostgreSQL; deploy of 3N nodes / 5N links,
                                                       a third across hosts; a cross-host link added; a deleted VXLAN end repaired at --resync 30s and 1s; destroy)
               aether-bench lab-transport [--links 4] [--cli .build/aether/aether]
                                                      (cross-host links by transport, vxlan beside wireguard: 2 simulated hosts, agent processes; time to up,
                                                       a 10 s iperf3 TCP stream over link 1 (Mbit/s, retransmits, CPU), RSS, destroy; needs iperf3 and wireguard-go)
               aether-bench chaos-fuzz [--inputs 100000] [--seed 16] [--target all|readers|http] [--timeout 2] [--cli .build/aether/aether]  (readers and the HTTP API under mutated input)
               aether-bench chaos-soak [--minutes 60] [--reference 10] [--cli .build/aether/aether]  (churn; RSS and descriptors of the daemon and aether run)
               aether-bench chaos [--short] [--kills 100] [--hub-kills N] [--namespaces 200] [--drift 1000] [--drift-namespaces 20] [--wg-drift 1000] [--events 50000] [--buffer 4096] [--only apply,run,hub,drift,wgdrift,overflow] [--cli .build/aether/aether]
                                                      (faults: kill -9 in apply/destroy/run repairs/hub AddNetwork, a drift storm, a monitor overflow; one table)
               aether-bench workload --n N --prefix P   (one Aether run, JSON line)
        """);
    return 2;
}
