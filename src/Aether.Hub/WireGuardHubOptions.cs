using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.WireGuard;
using Microsoft.Extensions.Logging;

namespace Aether.Hub;

/// <summary>How a <see cref="WireGuardHub"/> runs.</summary>
public sealed record WireGuardHubOptions
{
    /// <summary>The owner written into the marks of the hub's objects (<c>aether:hub</c>) and its nftables table
    /// (<c>inet aether-hub</c>).</summary>
    public string Owner { get; init; } = "hub";

    /// <summary>What WireGuard device names start with (<c>wg</c>: <c>wg0</c>, <c>wg1</c>…). The userspace
    /// implementation's names are global to the machine (its sockets are), so two hubs on one machine need different
    /// prefixes; at most 11 bytes.</summary>
    public string WireGuardPrefix { get; init; } = "wg";

    /// <summary>The host namespace: where <c>wgN</c> and <c>veth-rootN</c> live; null for the process's own. The
    /// hub duplicates it.</summary>
    public NetworkNamespace? HostNamespace { get; init; }

    /// <summary>Where the hub keeps its last-applied record (what addresses, routes, sysctls and tables it set, and
    /// the values it replaced); null keeps it in memory.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>How WireGuard devices are run.</summary>
    public WireGuardBackendOptions Backend { get; init; } = WireGuardBackendOptions.Default;

    /// <summary>The drift-repair loop's timing.</summary>
    public ReconcileLoopOptions Loop { get; init; } = new() { Resync = TimeSpan.FromSeconds(10) };

    /// <summary>Whether to run the drift-repair loop (true) or only act on calls (false: tests of single calls).</summary>
    public bool RunLoop { get; init; } = true;

    /// <summary>Called, when set, with the name and duration of each phase of a call and of each source's plan and
    /// apply (<c>add: gate</c>, <c>plan routes in the host</c>…): for profiling. Called under the hub's gate, from
    /// several threads at once; it must be quick and synchronise itself.</summary>
    public Action<string, TimeSpan>? PhaseTimings { get; init; }

    /// <summary>Where the hub logs.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
