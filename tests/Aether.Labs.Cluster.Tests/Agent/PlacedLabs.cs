using System.Diagnostics;
using Aether.Labs.Cluster.Agent;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>What the placed-lab tests share: reading a lab file, describing a status, waiting for a condition,
/// addressing ends and pinging across them.</summary>
internal static class PlacedLabs
{
    public static LabSpec Read(string definition)
    {
        var loaded = LabLoader.Parse(definition, "lab.yaml");
        return loaded.Lab ?? throw new InvalidOperationException(string.Join("; ", loaded.Errors));
    }

    public static string Describe(ClusterLabStatus status) =>
        string.Join("; ", status.Links.Select(l => $"{l.LinkId}: {l.State} {l.Message} (A {l.A?.State} {l.A?.Message}, B {l.B?.State} {l.B?.Message})"));

    /// <summary>Polls <paramref name="condition"/> every 50 ms; how long it took, or a failure naming
    /// <paramref name="what"/> after <paramref name="seconds"/>.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what, double seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed.TotalSeconds < seconds, what + $": not within {seconds} s");
            await Task.Delay(50);
        }

        return clock.Elapsed;
    }

    /// <summary>Whether link <paramref name="name"/> of namespace <paramref name="ns"/> exists and is administratively up.</summary>
    public static async Task<bool> IsUpAsync(string ns, string name) =>
        await SimulatedHosts.LinkAsync(ns, name) is { } link && link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP");

    /// <summary>Adds each address (/24) to its node's interface in lab <paramref name="lab"/>.</summary>
    public static async Task AddressAsync(string lab, params (string Node, string Dev, string Address)[] addresses)
    {
        foreach (var (node, dev, address) in addresses)
        {
            await SimulatedHosts.IpAsync("-n", $"{lab}-{node}", "addr", "add", address + "/24", "dev", dev);
        }
    }

    /// <summary>Pings <paramref name="to"/> from namespace <paramref name="ns"/> (three tries after a first lost
    /// one: the first ARP can be lost).</summary>
    public static async Task PingAsync(string ns, string to)
    {
        var (code, output) = await SimulatedHosts.TryRunAsync("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", to);
        if (code != 0)
        {
            (code, output) = await SimulatedHosts.TryRunAsync("ip", "netns", "exec", ns, "ping", "-c", "3", "-W", "2", to);
        }

        Assert.True(code == 0, $"ping {to} from {ns}: {output}");
    }
}
