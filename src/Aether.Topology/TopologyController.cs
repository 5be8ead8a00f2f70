using System.Diagnostics;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

/// <summary>
/// Plans, applies and destroys a topology through the reconcile sources, one set per namespace (the host is one too),
/// and keeps it converged with one loop per namespace. Owned namespaces are recorded under the state directory;
/// links carry the mark <c>aether:NAME</c>; addresses, routes and sysctls have last-applied records there too; a
/// namespace's NAT rules live in the nftables table <c>inet aether-NAME</c>.
/// </summary>
public sealed partial class TopologyController
{
    private readonly TopologySpec _topology;

    // What each scope holds, worked out once: every pass over a thousand namespaces would otherwise scan every link.
    private readonly ILookup<Scope, TopologyLink> _linksByScope;
    private readonly ILookup<Scope, TopologyLink> _peersByScope; // veths whose peer lives in a scope other than their own
    private readonly Dictionary<Scope, List<(string Link, IPPrefix Address)>> _addressesByScope = [];
    private readonly ILookup<Scope, TopologyRoute> _routesByScope;
    private readonly Dictionary<Scope, int> _scopeIndex = [];
    private readonly Netlink.Monitoring.MonitorOptions? _monitorOptions;
    private readonly bool _awaitTeardown;

    /// <summary>Creates the controller for a validated topology.</summary>
    public TopologyController(TopologySpec topology, ControllerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        _topology = topology;
        var declared = topology.Namespaces.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (topology.Links.FirstOrDefault(l => l.Underlay?.Namespace is { } ns && !declared.Contains(ns)) is { } undeclared)
        {
            throw new ArgumentException($"link {undeclared.Name}: its underlay namespace {undeclared.Underlay!.Namespace} is not among the topology's namespaces (list it there: it is used, and created only when missing)", nameof(topology));
        }

        options ??= new ControllerOptions();
        StatePath = Path.Combine(options.StateDirectory, topology.Name);
        _monitorOptions = options.MonitorReceiveBufferSize is { } size ? new Netlink.Monitoring.MonitorOptions { ReceiveBufferSize = size } : null;
        _awaitTeardown = options.AwaitTeardown;
        _linksByScope = topology.Links.ToLookup(l => ScopeOf(l.Namespace));
        _peersByScope = topology.Links.Where(l => l.Peer is not null && PeerScope(l) != ScopeOf(l.Namespace)).ToLookup(PeerScope);
        _routesByScope = topology.Routes.ToLookup(r => ScopeOf(r.Namespace));
        foreach (var link in topology.Links)
        {
            AddressList(ScopeOf(link.Namespace)).AddRange(link.Addresses.Select(a => (link.Name, a)));
            if (link.Peer is { } peer)
            {
                AddressList(PeerScope(link)).AddRange(peer.Addresses.Select(a => (peer.Name, a)));
            }
        }

        _scopeIndex[Scope.Host] = 0;
        for (var i = 0; i < topology.Namespaces.Count; i++)
        {
            _scopeIndex[Scope.Namespace(topology.Namespaces[i].Name)] = i + 1;
        }
    }

    /// <summary>This topology's state directory (<c>STATE/NAME</c>).</summary>
    public string StatePath { get; }

    private string Owner => _topology.Name;


    private static readonly Stage[] StageOrder = [Stage.Links, Stage.Devices, Stage.Addresses, Stage.Routes, Stage.Sysctls, Stage.Nftables];

    /// <summary>The host and then every namespace, in file order.</summary>
    private IEnumerable<Scope> Scopes => [Scope.Host, .. _topology.Namespaces.Select(n => Scope.Namespace(n.Name))];

    /// <summary>Runs <paramref name="work"/> for every item, several at once, and returns the results in item order.
    /// Items for which <paramref name="last"/> holds are started after the others: the host, whose link source looks
    /// up a peer in every namespace, then finds most of them in the links the namespaces' own sources have read.</summary>
    private static async Task<T[]> ForEachAsync<TItem, T>(TItem[] items, Func<TItem, Task<T>> work, Func<TItem, bool> last, CancellationToken cancellationToken)
    {
        var results = new T[items.Length];
        var order = Enumerable.Range(0, items.Length).Where(i => !last(items[i])).Concat(Enumerable.Range(0, items.Length).Where(i => last(items[i])));
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 4, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(order, options, async (i, _) => results[i] = await work(items[i]).ConfigureAwait(false)).ConfigureAwait(false);
        return results;
    }

    private int ScopeIndex(Scope scope) => _scopeIndex[scope];

    private List<(string Link, IPPrefix Address)> AddressList(Scope scope)
    {
        if (!_addressesByScope.TryGetValue(scope, out var list))
        {
            list = [];
            _addressesByScope[scope] = list;
        }

        return list;
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.Ordinal);

    private static string NamespaceKey(string name) => "namespace " + name;

    private static Scope ScopeOf(string? ns) => ns is null ? Scope.Host : Scope.Namespace(ns);

    /// <summary>The scope that carries a VXLAN's tunnel when that is not the link's own; null otherwise (no
    /// underlay, or an underlay that is the link's own namespace).</summary>
    private static Scope? UnderlayScope(TopologyLink link) =>
        link is { Kind: TopologyLinkKind.Vxlan, Underlay: { } underlay } && ScopeOf(underlay.Namespace) is var scope && scope != ScopeOf(link.Namespace) ? scope : null;

    private static Scope PeerScope(TopologyLink link) => link.Peer?.Namespace is { } ns ? Scope.Namespace(ns) : ScopeOf(link.Namespace);

    /// <summary>Every record of this topology, in one file: the namespaces it created, and per namespace (and the
    /// host) the addresses, routes and sysctls it applied.</summary>
    private AppliedRecordStore OpenStore() => AppliedRecordStore.Open(Path.Combine(StatePath, "records.json"));

    private static AppliedRecord NamespaceRecord(AppliedRecordStore store) => store.Section("namespaces");

    private static AppliedRecord RecordOf(AppliedRecordStore store, Scope scope, string what) => store.Section(SectionOf(scope, what));

    /// <summary>The name of a scope's section of the record: <c>netns NAME addresses</c>, <c>host routes</c>.</summary>
    private static string SectionOf(Scope scope, string what) => scope.IsHost ? "host " + what : "netns " + scope.Name + " " + what;

    private static async Task<Plan> DiffAsync(IReconcileSource source, CancellationToken cancellationToken) => source switch
    {
        LinkSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        AddressSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        RouteSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        SysctlSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        NftablesSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        Aether.WireGuard.WireGuardSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        _ => throw new InvalidOperationException($"unknown source {source.Name}"),
    };

    private static async Task WaitGoneAsync(HashSet<string> names, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return;
        }

        using var host = NetlinkHandle.Open();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            IReadOnlyList<Link> links;
            try
            {
                links = await host.ListLinksAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DumpInterruptedException<Link>)
            {
                continue; // the teardown is changing the table right now: look again
            }

            if (!links.Any(l => names.Contains(l.Name)))
            {
                return;
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }
}
