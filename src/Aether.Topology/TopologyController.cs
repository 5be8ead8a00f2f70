using System.Diagnostics;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Nftables;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Topology;

/// <summary>How a change line starts: <c>+</c> create, <c>~</c> change, <c>-</c> delete, <c>=</c> in sync,
/// <c>!</c> conflict (someone else's object where ours should be).</summary>
public enum ChangeKind
{
    /// <summary><c>+</c>: created.</summary>
    Create,

    /// <summary><c>~</c>: changed in place (or deleted and recreated, the reason says which).</summary>
    Change,

    /// <summary><c>-</c>: deleted.</summary>
    Delete,

    /// <summary><c>=</c>: already as desired.</summary>
    InSync,

    /// <summary><c>!</c>: a conflict; nothing was touched.</summary>
    Conflict,
}

/// <summary>One line of a plan or of what apply did: <c>+ veth veth-host ↔ aether-ns/veth-ns</c>.</summary>
/// <param name="Kind">What happens to the object.</param>
/// <param name="Subject">The object as people name it (<c>veth veth-host ↔ aether-ns/veth-ns</c>, <c>address 10.0.0.1/30 on veth-host</c>).</param>
/// <param name="Namespace">The namespace it is in; null for the host.</param>
/// <param name="Reason">Why (<c>missing</c>, <c>MTU 1400, want 1500</c>, <c>its peer veth-ns is missing</c>), or null.</param>
public sealed record ChangeLine(ChangeKind Kind, string Subject, string? Namespace, string? Reason)
{
    /// <summary>The line's symbol.</summary>
    public char Symbol => Kind switch
    {
        ChangeKind.Create => '+',
        ChangeKind.Change => '~',
        ChangeKind.Delete => '-',
        ChangeKind.InSync => '=',
        _ => '!',
    };

    /// <inheritdoc/>
    public override string ToString() => Reason is null ? $"{Symbol} {Subject}" : $"{Symbol} {Subject} ({Reason})";
}

/// <summary>What the controller found, or did.</summary>
/// <param name="Lines">One line per object, in the order they were (or would be) applied.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="Error">The failure that stopped apply (with the kernel's text), or null.</param>
public sealed record TopologyResult(IReadOnlyList<ChangeLine> Lines, TimeSpan Elapsed, string? Error)
{
    /// <summary>Objects created.</summary>
    public int Created => Lines.Count(l => l.Kind == ChangeKind.Create);

    /// <summary>Objects changed.</summary>
    public int Changed => Lines.Count(l => l.Kind == ChangeKind.Change);

    /// <summary>Objects deleted.</summary>
    public int Deleted => Lines.Count(l => l.Kind == ChangeKind.Delete);

    /// <summary>Objects already in sync.</summary>
    public int Unchanged => Lines.Count(l => l.Kind == ChangeKind.InSync);

    /// <summary>Conflicts (nothing was applied when there is one).</summary>
    public int Conflicts => Lines.Count(l => l.Kind == ChangeKind.Conflict);

    /// <summary>Whether nothing needs (or needed) doing.</summary>
    public bool InSync => Error is null && Lines.All(l => l.Kind == ChangeKind.InSync);
}

/// <summary>Where the controller keeps its last-applied records, and how it reports progress.</summary>
public sealed record ControllerOptions
{
    /// <summary>The state root; each topology gets <c>STATE/NAME/</c>. Default <c>/var/lib/aether</c>, or the
    /// <c>AETHER_STATE_DIR</c> environment variable when set.</summary>
    public string StateDirectory { get; init; } = Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } dir ? dir : "/var/lib/aether";
}

/// <summary>
/// Plans, applies and destroys a topology through the reconcile sources, one set per namespace (the host is one too),
/// and keeps it converged with one loop per namespace. Owned namespaces are recorded under the state directory;
/// links carry the mark <c>aether:NAME</c>; addresses, routes and sysctls have last-applied records there too; a
/// namespace's NAT rules live in the nftables table <c>inet aether-NAME</c>.
/// </summary>
public sealed class TopologyController
{
    private const string Host = "";
    private readonly TopologySpec _topology;

    // What each scope holds, worked out once: every pass over a thousand namespaces would otherwise scan every link.
    private readonly ILookup<string, TopologyLink> _linksByScope;
    private readonly ILookup<string, TopologyLink> _peersByScope; // veths whose peer lives in a scope other than their own
    private readonly Dictionary<string, List<(string Link, IPPrefix Address)>> _addressesByScope = new(StringComparer.Ordinal);
    private readonly ILookup<string, TopologyRoute> _routesByScope;
    private readonly Dictionary<string, int> _scopeIndex = new(StringComparer.Ordinal);

    /// <summary>Creates the controller for a validated topology.</summary>
    public TopologyController(TopologySpec topology, ControllerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        _topology = topology;
        StatePath = Path.Combine((options ?? new ControllerOptions()).StateDirectory, topology.Name);
        _linksByScope = topology.Links.ToLookup(l => ScopeOf(l.Namespace), StringComparer.Ordinal);
        _peersByScope = topology.Links.Where(l => l.Peer is not null && !Same(PeerScope(l), ScopeOf(l.Namespace))).ToLookup(PeerScope, StringComparer.Ordinal);
        _routesByScope = topology.Routes.ToLookup(r => ScopeOf(r.Namespace), StringComparer.Ordinal);
        foreach (var link in topology.Links)
        {
            AddressList(ScopeOf(link.Namespace)).AddRange(link.Addresses.Select(a => (link.Name, a)));
            if (link.Peer is { } peer)
            {
                AddressList(PeerScope(link)).AddRange(peer.Addresses.Select(a => (peer.Name, a)));
            }
        }

        _scopeIndex[Host] = 0;
        for (var i = 0; i < topology.Namespaces.Count; i++)
        {
            _scopeIndex[topology.Namespaces[i].Name] = i + 1;
        }
    }

    /// <summary>This topology's state directory (<c>STATE/NAME</c>).</summary>
    public string StatePath { get; }

    private string Owner => _topology.Name;

    /// <summary>What apply would do, touching nothing: namespaces that do not exist yet show everything in them as
    /// to be created.</summary>
    public async Task<TopologyResult> PlanAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var session = new Session(this, OpenStore(), createMissing: false);
        using var cache = PassCache.Begin(); // nothing is applied while planning: each namespace's links are read once
        var lines = new List<ChangeLine>();
        foreach (var ns in _topology.Namespaces)
        {
            // Existing namespaces are listed in sync, as apply lists them, so a plan and its apply count the same objects.
            lines.Add(new ChangeLine(session.Exists(ns.Name) ? ChangeKind.InSync : ChangeKind.Create, "namespace " + ns.Name, ns.Name, null));
        }

        // Nothing is applied while planning, so every stage of every namespace is observed at once (the host's links,
        // with a peer to look up in every namespace, overlap the rest); lines keep stage order, then file order.
        var scopes = Scopes.ToArray();
        var units = StageOrder.SelectMany(stage => scopes.Select(scope => (Stage: stage, Scope: scope))).ToArray();
        var parts = await ForEachAsync(units, async unit =>
        {
            var (stage, scope) = unit;
            if (!session.Exists(scope))
            {
                return Expected(stage, scope).Select(e => new ChangeLine(ChangeKind.Create, e.Subject, NsOf(scope), null)).ToList();
            }

            if (session.SourceFor(stage, scope) is not { } source)
            {
                return [];
            }

            var plan = await DiffAsync(source, cancellationToken).ConfigureAwait(false);
            var found = LinesOf(stage, scope, plan, plan, session).ToList();
            if (stage == Stages.Links)
            {
                // Veths whose peer's namespace is still to be created: apply creates them once it exists.
                found.AddRange(_linksByScope[scope]
                    .Where(l => session.Planned(stage, scope, "link " + l.Name))
                    .Select(l => new ChangeLine(ChangeKind.Create, Describe(l, scope), NsOf(scope), null)));
            }

            return found;
        }, unit => unit.Scope.Length == 0, cancellationToken).ConfigureAwait(false);
        foreach (var part in parts)
        {
            lines.AddRange(part);
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }

    /// <summary>Makes the kernel match the topology. A conflict anywhere (someone else's object where ours should
    /// be) stops it before anything is touched; a failure stops it at the failing operation, with the kernel's text.</summary>
    public async Task<TopologyResult> ApplyAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default) =>
        await ApplyAsync(await PlanAsync(cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false);

    /// <summary>Applies after <paramref name="plan"/>, a <see cref="PlanAsync"/> made just before (a caller that
    /// shows a plan first does not pay for a second one). A plan with conflicts stops here; a plan that is all in
    /// sync is the answer (it was read from the kernel a moment ago); anything else is applied stage by stage, each
    /// stage observed afresh.</summary>
    public async Task<TopologyResult> ApplyAsync(TopologyResult plan, IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var clock = Stopwatch.StartNew();
        if (plan.Conflicts > 0)
        {
            return plan with { Elapsed = plan.Elapsed + clock.Elapsed, Error = $"{plan.Conflicts} conflict(s) with objects that are not ours: nothing was changed" };
        }

        if (plan.InSync)
        {
            foreach (var line in plan.Lines)
            {
                progress?.Report(line);
            }

            return plan with { Elapsed = plan.Elapsed + clock.Elapsed };
        }

        var lines = new List<ChangeLine>();
        void Report(ChangeLine line)
        {
            lines.Add(line);
            progress?.Report(line);
        }

        var store = OpenStore();
        using var session = new Session(this, store, createMissing: true);
        foreach (var created in session.Created)
        {
            Report(new ChangeLine(ChangeKind.Create, "namespace " + created, created, null));
        }

        foreach (var ns in _topology.Namespaces.Where(n => !session.Created.Contains(n.Name)))
        {
            Report(new ChangeLine(ChangeKind.InSync, "namespace " + ns.Name, ns.Name, null));
        }

        // Stage by stage (every namespace's links before any address: a veth made from one namespace puts its peer
        // in another), the namespaces of a stage in parallel; a failure stops apply after its stage. Each stage is
        // planned everywhere first, every plan's intent is recorded in one write, and then the plans are applied
        // (their record changes written once more, at the end of the stage).
        var progressLock = new Lock();
        foreach (var stage in StageOrder)
        {
            (ISplitPassSource Source, Plan Plan)?[] plans;
            using (PassCache.Begin()) // planning touches nothing: each namespace's links are read once for the stage
            {
                plans = await PerScopeAsync(async scope => session.SourceFor(stage, scope) is ISplitPassSource source
                    ? (source, await source.PlanPassAsync(cancellationToken).ConfigureAwait(false))
                    : ((ISplitPassSource, Plan)?)null, cancellationToken).ConfigureAwait(false);
            }

            using (store.Defer())
            {
                foreach (var (source, stagePlan) in plans.OfType<(ISplitPassSource, Plan)>())
                {
                    source.Prepare(stagePlan);
                }
            }

            var failures = new string?[plans.Length];
            List<ChangeLine>[] parts;
            using (store.Defer())
            {
                parts = await PerScopeAsync(async scope =>
                {
                    if (plans[ScopeIndex(scope)] is not var (source, stagePlan))
                    {
                        return [];
                    }

                    var result = await source.ApplyPlanAsync(stagePlan, cancellationToken).ConfigureAwait(false);
                    var done = LinesOf(stage, scope, result.Plan, result.Applied, session).ToList();
                    lock (progressLock)
                    {
                        foreach (var line in done)
                        {
                            progress?.Report(line);
                        }
                    }

                    if (result.Error is not null)
                    {
                        var failed = result.Pending.Count > 0 ? LineOf(result.Pending[0], scope).Subject + ": " : string.Empty;
                        failures[ScopeIndex(scope)] = failed + result.Error.Message;
                    }

                    return done;
                }, cancellationToken).ConfigureAwait(false);
            }

            foreach (var part in parts)
            {
                lines.AddRange(part);
            }

            if (failures.FirstOrDefault(f => f is not null) is { } failure)
            {
                return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, failure);
            }
        }

        return new TopologyResult(lines, plan.Elapsed + clock.Elapsed, null);
    }

    /// <summary>Removes what this topology owns and nothing else: owned namespaces are deleted whole (the kernel tears
    /// their contents down in one batch, far faster than link by link), then owned objects left in the host and in
    /// namespaces the topology used but did not create are removed, and sysctls there get their original values.</summary>
    public async Task<TopologyResult> DestroyAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var lines = new List<ChangeLine>();
        void Report(ChangeLine line)
        {
            lines.Add(line);
            progress?.Report(line);
        }

        var store = OpenStore();
        var owned = NamespaceRecord(store);
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ns in _topology.Namespaces)
        {
            if (!owned.TryGet(NamespaceKey(ns.Name), out _))
            {
                continue;
            }

            if (NetworkNamespace.Exists(ns.Name))
            {
                NetworkNamespace.Delete(ns.Name);
                deleted.Add(ns.Name);
                Report(new ChangeLine(ChangeKind.Delete, "namespace " + ns.Name, ns.Name, "with everything in it"));
            }

            owned.Remove(NamespaceKey(ns.Name));
        }

        // Host ends of veths whose peers were in those namespaces go when the kernel tears the namespaces down.
        var goingWithNamespaces = _topology.Links
            .Where(l => l.Namespace is null && l.Peer is not null && PeerScope(l) is { Length: > 0 } p && deleted.Contains(p))
            .Select(l => l.Name)
            .ToHashSet(StringComparer.Ordinal);
        await WaitGoneAsync(goingWithNamespaces, cancellationToken).ConfigureAwait(false);
        foreach (var name in goingWithNamespaces)
        {
            Report(new ChangeLine(ChangeKind.Delete, "link " + name, null, "with its peer's namespace"));
        }

        using (var session = new Session(this, store, createMissing: false, empty: true))
        {
            foreach (var scope in Scopes.Where(s => !deleted.Contains(s) && session.Exists(s)))
            {
                foreach (var stage in StageOrder.Reverse())
                {
                    if (session.SourceFor(stage, scope) is not { } source)
                    {
                        continue;
                    }

                    if (source is SysctlSource sysctls)
                    {
                        await sysctls.ReleaseAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    var result = await source.RunPassAsync(cancellationToken).ConfigureAwait(false);
                    // Record entries of objects already gone (with a deleted namespace, say) are forgotten silently.
                    var removed = result.Applied.Where(op => op is not (AddressOperation { RecordOnly: true } or RouteOperation { Kind: OperationKind.Delete, Existing: null } or NftablesOperation { RecordOnly: true })).ToList();
                    foreach (var line in LinesOf(stage, scope, result.Plan, removed, session).Where(l => l.Kind != ChangeKind.InSync))
                    {
                        Report(line);
                    }

                    if (result.Error is not null)
                    {
                        return new TopologyResult(lines, clock.Elapsed, result.Error.Message);
                    }
                }
            }
        }

        if (Directory.Exists(StatePath))
        {
            Directory.Delete(StatePath, recursive: true);
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }

    /// <summary>Keeps every namespace converged with its own loop until <paramref name="cancellationToken"/> is
    /// cancelled; missing namespaces are created first. The loops' first passes converge whatever is left, so every
    /// change made from here on shows in a pass report, and every pass report goes to <paramref name="onReport"/>.
    /// Call <see cref="ApplyAsync(IProgress{ChangeLine}?, CancellationToken)"/> before it to show the initial state object by object.</summary>
    public async Task RunAsync(ReconcileLoopOptions loopOptions, Action<PassReport>? onReport = null, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loopOptions);
        using var session = new Session(this, OpenStore(), createMissing: true);
        var loops = Scopes.Where(session.Exists)
            .Select(scope => new ReconcileLoop(
                new SourceGroup(
                    (scope.Length == 0 ? "host" : scope) + " of " + Owner,
                    [.. StageOrder.Select(stage => session.SourceFor(stage, scope)).OfType<IReconcileSource>()],
                    hints: ct => session.HintsAsync(scope, ct)),
                loopOptions,
                logger: (loggers ?? NullLoggerFactory.Instance).CreateLogger<ReconcileLoop>()))
            .ToList();
        var readers = loops.Select(loop => Task.Run(async () =>
        {
            await foreach (var report in loop.Reports.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                onReport?.Invoke(report);
            }
        }, CancellationToken.None)).ToList();
        foreach (var loop in loops)
        {
            await loop.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT or SIGTERM: stop the loops and leave.
        }

        foreach (var loop in loops)
        {
            await loop.StopAsync(CancellationToken.None).ConfigureAwait(false);
            loop.Dispose();
        }

        await Task.WhenAll(readers).ConfigureAwait(false);
    }

    private static readonly int[] StageOrder = [Stages.Links, Stages.Addresses, Stages.Routes, Stages.Sysctls, Stages.Nftables];

    /// <summary>The host (empty string) and then every namespace, in file order.</summary>
    private IEnumerable<string> Scopes => [Host, .. _topology.Namespaces.Select(n => n.Name)];

    /// <summary>Runs <paramref name="work"/> for every scope, several at once, and returns the results in scope order.</summary>
    private Task<T[]> PerScopeAsync<T>(Func<string, Task<T>> work, CancellationToken cancellationToken) =>
        ForEachAsync(Scopes.ToArray(), work, scope => scope.Length == 0, cancellationToken);

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

    private int ScopeIndex(string scope) => _scopeIndex[scope];

    private List<(string Link, IPPrefix Address)> AddressList(string scope)
    {
        if (!_addressesByScope.TryGetValue(scope, out var list))
        {
            list = [];
            _addressesByScope[scope] = list;
        }

        return list;
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.Ordinal);

    private static string? NsOf(string scope) => scope.Length == 0 ? null : scope;

    private static string Qualify(string scope, string name) => scope.Length == 0 ? name : scope + "/" + name;

    private static string NamespaceKey(string name) => "namespace " + name;

    private static string ScopeOf(string? ns) => ns ?? Host;

    private static string PeerScope(TopologyLink link) => link.Peer?.Namespace ?? ScopeOf(link.Namespace);

    /// <summary>Every record of this topology, in one file: the namespaces it created, and per namespace (and the
    /// host) the addresses, routes and sysctls it applied.</summary>
    private AppliedRecordStore OpenStore() => AppliedRecordStore.Open(Path.Combine(StatePath, "records.json"));

    private static AppliedRecord NamespaceRecord(AppliedRecordStore store) => store.Section("namespaces");

    private static AppliedRecord RecordOf(AppliedRecordStore store, string scope, string what) =>
        store.Section((scope.Length == 0 ? "host" : "netns " + scope) + " " + what);

    private static async Task<Plan> DiffAsync(IReconcileSource source, CancellationToken cancellationToken) => source switch
    {
        LinkSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        AddressSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        RouteSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        SysctlSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
        NftablesSource s => s.Diff(await s.ObserveAsync(cancellationToken).ConfigureAwait(false)),
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

    /// <summary>What a stage of a scope should hold, by the operation target the sources use, and as people name it.</summary>
    private IEnumerable<(string Target, string Subject)> Expected(int stage, string scope)
    {
        switch (stage)
        {
            case Stages.Links:
                foreach (var link in _linksByScope[scope])
                {
                    yield return ("link " + link.Name, Describe(link, scope));
                }

                break;
            case Stages.Addresses:
                foreach (var (link, address) in AddressesIn(scope))
                {
                    yield return ($"address {address} on {link}", $"address {address} on {Qualify(scope, link)}");
                }

                break;
            case Stages.Routes:
                foreach (var route in RoutesIn(scope))
                {
                    yield return (RouteSource.KeyOf(route), "route " + route + (scope.Length == 0 ? string.Empty : " in " + scope));
                }

                break;
            case Stages.Sysctls:
                foreach (var sysctl in SysctlsIn(scope))
                {
                    var key = Sysctl.FormatKey(Sysctl.NormalizeKey(sysctl.Key));
                    yield return ("sysctl " + key, $"sysctl {key}={sysctl.Value} in {scope}");
                }

                break;
            case Stages.Nftables when NatIn(scope).Count > 0:
                yield return ($"nftables inet {NftablesSource.TablePrefix}{Owner}", NatSubject(scope));
                break;
        }
    }

    /// <summary>The lines for one source's pass: an operation per line, then <c>=</c> for every expected object no
    /// operation touched.</summary>
    private IEnumerable<ChangeLine> LinesOf(int stage, string scope, IReadOnlyList<Operation> plan, IReadOnlyList<Operation> done, Session session)
    {
        foreach (var op in done)
        {
            yield return LineOf(op, scope);
        }

        var touched = plan.Select(op => op.Target).ToHashSet(StringComparer.Ordinal);
        foreach (var (target, subject) in Expected(stage, scope))
        {
            if (!touched.Contains(target) && !session.Planned(stage, scope, target))
            {
                yield return new ChangeLine(ChangeKind.InSync, subject, NsOf(scope), null);
            }
        }
    }

    private ChangeLine LineOf(Operation op, string scope)
    {
        var kind = op.Conflict ? ChangeKind.Conflict : op.Kind switch
        {
            OperationKind.Create => ChangeKind.Create,
            OperationKind.Delete => ChangeKind.Delete,
            _ => ChangeKind.Change,
        };
        var subject = op switch
        {
            LinkOperation { Kind: OperationKind.Create, Link: { } link } => Describe(link, scope),
            LinkOperation l => l.Target.Replace("link ", "link " + (scope.Length == 0 ? string.Empty : scope + "/"), StringComparison.Ordinal),
            AddressOperation a => $"address {a.Address} on {Qualify(scope, a.Link)}",
            RouteOperation { Route: { } r } => "route " + r + (scope.Length == 0 ? string.Empty : " in " + scope),
            NftablesOperation { Table: not null } => NatSubject(scope),
            _ => op.Target + (scope.Length == 0 ? string.Empty : " in " + scope),
        };
        var reason = op.Kind == OperationKind.Create && Same(op.Reason, "missing") ? null : op.Reason;
        return new ChangeLine(kind, subject, NsOf(scope), reason);
    }

    private static string Describe(TopologyLink link, string scope) => link.Kind switch
    {
        TopologyLinkKind.Veth => $"veth {Qualify(scope, link.Name)} ↔ {Qualify(PeerScope(link), link.Peer!.Name)}",
        TopologyLinkKind.Vxlan => $"vxlan {Qualify(scope, link.Name)} (VNI {link.Vni})",
        TopologyLinkKind.Macvlan => $"macvlan {Qualify(scope, link.Name)} on {link.Parent}",
        _ => $"bridge {Qualify(scope, link.Name)}",
    };

    private string Describe(DesiredLink link, string scope) =>
        _linksByScope[scope].FirstOrDefault(l => Same(l.Name, link.Name)) is { } t ? Describe(t, scope) : "link " + Qualify(scope, link.Name);

    private List<(string Link, IPPrefix Address)> AddressesIn(string scope) =>
        _addressesByScope.TryGetValue(scope, out var list) ? list : [];

    private IEnumerable<DesiredRoute> RoutesIn(string scope) =>
        _routesByScope[scope].Select(r => new DesiredRoute
        {
            Destination = r.To,
            Gateway = r.Via,
            Device = r.Dev,
            Metric = r.Metric,
            Table = r.Table ?? Route.MainTable,
            OnLink = r.OnLink,
        });

    private IReadOnlyList<TopologyMasquerade> NatIn(string scope) =>
        _scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Nat : [];

    /// <summary>A namespace's NAT as people read it: <c>nat in blue: masquerade 10.0.0.0/24 out eth0</c>.</summary>
    private string NatSubject(string scope) =>
        $"nat in {scope}: " + string.Join(", ", NatIn(scope).Select(m => $"masquerade {m.Source} out {m.Out}"));

    private IEnumerable<DesiredSysctl> SysctlsIn(string scope) =>
        (_scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Sysctls : []).Select(kv => new DesiredSysctl(kv.Key, kv.Value));

    /// <summary>The namespaces, handles and sources of one plan, apply or destroy; disposing closes them.</summary>
    private sealed class Session : IDisposable
    {
        private readonly TopologyController _owner;
        private readonly Dictionary<string, NetworkNamespace> _namespaces = new(StringComparer.Ordinal);
        private readonly Dictionary<NetworkNamespace, string> _scopes = new(ReferenceEqualityComparer.Instance);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<NetlinkHandle>> _handles = new(StringComparer.Ordinal);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<NftContext>> _nftables = new(StringComparer.Ordinal);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<(int, string), Lazy<IReconcileSource?>> _sources = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HashSet<string>> _pendingPeers = new(StringComparer.Ordinal);
        private readonly bool _empty;
        private readonly AppliedRecordStore _store;

        public Session(TopologyController owner, AppliedRecordStore store, bool createMissing, bool empty = false)
        {
            _owner = owner;
            _store = store;
            _empty = empty;
            Add(Host, NetworkNamespace.OpenCurrent());
            var missing = new List<string>();
            foreach (var ns in owner._topology.Namespaces)
            {
                if (NetworkNamespace.Exists(ns.Name))
                {
                    Add(ns.Name, NetworkNamespace.Open(ns.Name));
                }
                else
                {
                    missing.Add(ns.Name);
                }
            }

            if (!createMissing || missing.Count == 0)
            {
                return;
            }

            // Recorded first, all in one write: a crash before the creations leaves a record of namespaces that may
            // not exist (harmless), never a namespace nobody knows is ours.
            NamespaceRecord(store).SetMany(missing.Select(name => KeyValuePair.Create(NamespaceKey(name), new AppliedEntry("created"))));

            // Several at once (the kernel sets a new namespace up partly in parallel), on mount point files made
            // together (see NamespaceBatch), each with its rtnetlink handle opened while the creating thread is still
            // inside it; a failure stops the rest and leaves those made so far to be closed with the session.
            var made = new (NetworkNamespace Namespace, NetlinkHandle Handle)?[missing.Count];
            using var batch = NamespaceBatch.Prepare(missing);
            try
            {
                Parallel.For(0, missing.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => made[i] = NetlinkHandle.CreateNamespace(missing[i], batch));
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerExceptions[0]); // the kernel's error, as one creation would give it
            }
            finally
            {
                for (var i = 0; i < missing.Count; i++)
                {
                    if (made[i] is var (ns, handle))
                    {
                        Add(missing[i], ns);
                        _handles[missing[i]] = new Lazy<NetlinkHandle>(handle);
                        Created.Add(missing[i]);
                    }
                }
            }
        }

        public List<string> Created { get; } = [];

        public bool Exists(string scope) => _namespaces.ContainsKey(scope);

        /// <summary>Whether a target is left out of its source because its peer's namespace does not exist yet (it
        /// was reported as a create, so it is not "in sync").</summary>
        public bool Planned(int stage, string scope, string target) =>
            stage == Stages.Links && _pendingPeers.TryGetValue(scope, out var names) && names.Contains(target["link ".Length..]);

        public IReconcileSource? SourceFor(int stage, string scope) =>
            _sources.GetOrAdd((stage, scope), key => new Lazy<IReconcileSource?>(() => Build(key.Item1, key.Item2))).Value;

        public void Dispose()
        {
            foreach (var source in _sources.Values.Where(l => l.IsValueCreated).Select(l => l.Value).OfType<IDisposable>())
            {
                source.Dispose();
            }

            foreach (var handle in _handles.Values.Where(l => l.IsValueCreated))
            {
                handle.Value.Dispose();
            }

            foreach (var context in _nftables.Values.Where(l => l.IsValueCreated))
            {
                context.Value.Dispose();
            }

            foreach (var ns in _namespaces.Values)
            {
                ns.Dispose();
            }
        }

        /// <summary>One rtnetlink monitor per namespace for the hints of links, addresses and routes (sysctls have
        /// none), and the nf_tables monitor of the nftables source where there is one.</summary>
        public IAsyncEnumerable<object> HintsAsync(string scope, CancellationToken cancellationToken) =>
            SourceFor(Stages.Nftables, scope)?.Subscribe(cancellationToken) is { } nftables
                ? SourceGroup.MergeAsync([RtnetlinkHintsAsync(scope, cancellationToken), nftables], cancellationToken)
                : RtnetlinkHintsAsync(scope, cancellationToken);

        private async IAsyncEnumerable<object> RtnetlinkHintsAsync(string scope, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var e in HandleOf(scope).MonitorAsync(Netlink.Monitoring.MonitorGroups.Links | Netlink.Monitoring.MonitorGroups.Addresses | Netlink.Monitoring.MonitorGroups.Routes, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }

        /// <summary>The session's handle in <paramref name="ns"/>, one of its namespaces.</summary>
        private NetlinkHandle HandleAt(NetworkNamespace ns) => HandleOf(_scopes[ns]);

        private void Add(string scope, NetworkNamespace ns)
        {
            _namespaces[scope] = ns;
            _scopes[ns] = scope;
        }

        private NetlinkHandle HandleOf(string scope) =>
            _handles.GetOrAdd(scope, key => new Lazy<NetlinkHandle>(() => NetlinkHandle.OpenAt(_namespaces[key]))).Value;

        private IReconcileSource? Build(int stage, string scope)
        {
            var handle = HandleOf(scope);
            switch (stage)
            {
                case Stages.Links:
                    var desired = new List<DesiredLink>();
                    var pending = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var link in _empty ? [] : _owner._linksByScope[scope])
                    {
                        var peerScope = PeerScope(link);
                        if (link.Kind == TopologyLinkKind.Veth && !Same(peerScope, scope) && !Exists(peerScope))
                        {
                            pending.Add(link.Name);
                            continue;
                        }

                        desired.Add(ToDesired(link, scope, peerScope));
                    }

                    _pendingPeers[scope] = pending;
                    var claimed = _empty ? [] : _owner._peersByScope[scope].Select(l => l.Peer!.Name);
                    return new LinkSource(handle, _owner.Owner, desired)
                    {
                        PeerHandles = HandleAt,
                        Claimed = claimed.Concat(pending).ToHashSet(StringComparer.Ordinal),
                    };
                case Stages.Addresses:
                    return new AddressSource(handle, RecordOf(_store, scope, "addresses"), _empty ? [] : [.. _owner.AddressesIn(scope).Select(a => new DesiredAddress(a.Link, a.Address))]);
                case Stages.Routes:
                    return new RouteSource(handle, _empty ? [] : [.. _owner.RoutesIn(scope)], new RouteSourceOptions { Record = RecordOf(_store, scope, "routes"), OwnsProtocol = false });
                case Stages.Sysctls when scope.Length > 0:
                    return new SysctlSource(_namespaces[scope], RecordOf(_store, scope, "sysctls"), _empty ? [] : [.. _owner.SysctlsIn(scope)], new SysctlSourceOptions { RestoreOnRelease = true });
                case Stages.Nftables when scope.Length > 0:
                    // Only where NAT is wanted, or was applied (its table is to be removed): no libnftables otherwise.
                    var nat = _empty ? [] : _owner.NatIn(scope);
                    var record = RecordOf(_store, scope, "nftables");
                    if (nat.Count == 0 && record.Count == 0)
                    {
                        return null;
                    }

                    NftChain[] chains = nat.Count == 0 ? [] : [NftChain.NatPostrouting([.. nat.Select(m => NftRule.Masquerade(m.Source, m.Out))])];
                    var context = _nftables.GetOrAdd(scope, key => new Lazy<NftContext>(() => NftContext.OpenAt(_namespaces[key]))).Value;
                    return new NftablesSource(context, _owner.Owner, chains, new NftablesSourceOptions { Record = record });
                default:
                    return null;
            }
        }

        private DesiredLink ToDesired(TopologyLink link, string scope, string peerScope)
        {
            LinkKindData kind = link.Kind switch
            {
                TopologyLinkKind.Veth => new Veth(link.Peer!.Name) { PeerNamespace = Same(peerScope, scope) ? null : _namespaces[peerScope] },
                TopologyLinkKind.Vxlan when link.Remote is { IsIPv6Multicast: true } or { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } && IsMulticast(link.Remote) =>
                    new Vxlan(link.Vni!.Value) { Group = link.Remote, Local = link.Local, Port = link.Port },
                TopologyLinkKind.Vxlan => new Vxlan(link.Vni!.Value) { Remote = link.Remote, Local = link.Local, Port = link.Port },
                TopologyLinkKind.Macvlan => new Macvlan(link.Mode ?? MacvlanMode.Bridge),
                _ => new Bridge(),
            };
            return new DesiredLink(link.Name, kind) { Up = link.Up, Mtu = link.Mtu, Master = link.Master, Parent = link.Parent };
        }

        private static bool IsMulticast(System.Net.IPAddress? address) =>
            address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } && (address.GetAddressBytes()[0] & 0xF0) == 0xE0;
    }
}
