using System.Diagnostics;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>Removes what this topology owns and nothing else: namespaces it created are deleted whole (the kernel
    /// tears their contents down in one batch, far faster than link by link) unless another topology still claims them,
    /// owned objects left in the host and in namespaces the topology used but did not create are removed, and sysctls
    /// there get their original values. A namespace that is no longer the one the record names is left as it is, with
    /// everything in it, and the report says so.</summary>
    /// <remarks>The other objects are removed before the namespaces are deleted, though what goes with those namespaces
    /// is decided first: once 1000 namespaces are unmounted, the kernel tears them down holding the lock that every
    /// link dump takes, and the host's one dump then waited 265 ms for it instead of taking 20.</remarks>
    public async Task<TopologyResult> DestroyAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var activity = AetherDiagnostics.ActivitySource.StartActivity("aether.topology.destroy");
        activity?.SetTag("aether.topology.name", Owner);
        var lines = new List<ChangeLine>();
        void Report(ChangeLine line)
        {
            lines.Add(line);
            progress?.Report(line);
        }

        var store = OpenStore();
        PhaseTimings.End("destroy: read records");
        string? error;
        Dictionary<Scope, HashSet<string>> going;
        // Under the lock from the decision to the deletion: no other topology of the state directory claims a
        // namespace this one has decided to delete meanwhile.
        using (OwnershipLock.Acquire(StateRoot, cancellationToken))
        {
            using var release = DecideNamespaces(store, Report);
            var leaving = release.ToDelete.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            going = GoingWith(leaving);
            PhaseTimings.End("destroy: decide namespaces");
            error = await RemoveTheRestAsync(store, leaving, release.Untouchable, going, Report, cancellationToken).ConfigureAwait(false);
            DeleteNamespaces(store, release, Report);
            PhaseTimings.End("destroy: delete namespaces");
        }

        var hostEnds = going.GetValueOrDefault(Scope.Host) ?? [];
        // Unless told to wait, they are not waited for (the kernel removes them 0.7 s after the last of 1000
        // namespaces is unmounted, in the background).
        if (_awaitTeardown)
        {
            await WaitGoneAsync(hostEnds, cancellationToken).ConfigureAwait(false);
            PhaseTimings.End("destroy: await host ends");
        }

        foreach (var (scope, names) in going)
        {
            foreach (var name in names)
            {
                Report(new ChangeLine(ChangeKind.Delete, "link " + scope.Qualify(name), scope.Name, "with its peer's namespace"));
            }
        }

        if (error is not null)
        {
            return new TopologyResult(lines, clock.Elapsed, error);
        }

        if (Directory.Exists(StatePath))
        {
            Directory.Delete(StatePath, recursive: true);
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }

    /// <summary>The links, scope by scope, that go when the kernel tears <paramref name="leaving"/> down: the ends in
    /// a namespace that stays (the host's veth ends, most often) of veths whose other end is in one that goes, whichever
    /// end the file declares the veth from.</summary>
    private Dictionary<Scope, HashSet<string>> GoingWith(HashSet<string> leaving)
    {
        var going = new Dictionary<Scope, HashSet<string>>();
        bool Leaves(Scope scope) => scope.Name is { } name && leaving.Contains(name);
        void Add(Scope scope, string name)
        {
            if (!going.TryGetValue(scope, out var names))
            {
                going[scope] = names = new HashSet<string>(StringComparer.Ordinal);
            }

            names.Add(name);
        }

        foreach (var link in _topology.Links.Where(l => l.Peer is not null))
        {
            var (own, peer) = (ScopeOf(link.Namespace), PeerScope(link));
            if (Leaves(peer) && !Leaves(own))
            {
                Add(own, link.Name);
            }
            else if (Leaves(own) && !Leaves(peer))
            {
                Add(peer, link.Peer!.Name);
            }
        }

        return going;
    }

    /// <summary>Removes owned objects from every scope that stays, stage by stage in reverse, leaving alone the links
    /// in <paramref name="going"/> and forgetting their addresses (they go with their peers' namespaces).</summary>
    /// <returns>The first error a pass met (the passes stop there), or null.</returns>
    private async Task<string?> RemoveTheRestAsync(AppliedRecordStore store, HashSet<string> leaving, HashSet<Scope> untouchable, Dictionary<Scope, HashSet<string>> going,
        Action<ChangeLine> report, CancellationToken cancellationToken)
    {
        using var session = new Session(this, store, createMissing: false, empty: true, skip: leaving) { Departing = going };
        ForgetAddressesOn(store, going);
        var scopes = Scopes.Where(s => !(s.Name is { } name && leaving.Contains(name)) && !untouchable.Contains(s) && session.Exists(s)).ToList();
        PhaseTimings.End("destroy: open the rest");
        // Stage by stage, every scope's part of a stage, and the record written once per stage (not once per object:
        // a thousand host addresses forgotten one write at a time cost seconds). A destroy killed mid-stage leaves
        // entries of objects already removed; the next destroy finds them gone and forgets them.
        foreach (var stage in StageOrder.Reverse())
        {
            using var deferral = store.Defer();
            foreach (var scope in scopes)
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
                    report(line);
                }

                if (result.Error is not null)
                {
                    return result.Error.Message;
                }
            }

            PhaseTimings.End(StageTimings[(int)stage]);
        }

        return null;
    }

    /// <summary>Each stage's phase name in <see cref="PhaseTimings"/>, made once.</summary>
    private static readonly string[] StageTimings = PhaseTimings.StageNames("destroy: ");

    /// <summary>What becomes of the namespaces this topology claims: those to delete (with why, each held open until
    /// all are unmounted), the scopes whose records are about another namespace (not to be touched), and every name
    /// whose claim is to be forgotten. Disposing closes what it holds.</summary>
    private sealed record NamespaceRelease(List<(string Name, AppliedEntry Entry, string Why, NetworkNamespace Held)> ToDelete, HashSet<Scope> Untouchable, List<string> Names) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (_, _, _, held) in ToDelete)
            {
                held.Dispose();
            }
        }
    }

    /// <summary>Decides, under the <see cref="OwnershipLock"/> the caller holds, what becomes of every namespace this
    /// topology claims. A namespace is deleted when an Aether topology made it (this one, proven by the identity
    /// recorded at creation, or any, by the mark inside it) and no other topology claims it: the last topology out of a
    /// shared namespace deletes it. One whose claim names another namespace is left.</summary>
    private NamespaceRelease DecideNamespaces(AppliedRecordStore store, Action<ChangeLine> report)
    {
        var untouchable = new HashSet<Scope>();
        var claims = NamespaceRecord(store);
        var recorded = claims.Snapshot();
        if (recorded.TryGetValue(ClaimKey(Scope.Host), out var hostEntry) && NamespaceClaim.Parse(hostEntry) is { Identity: { } host } && !host.IsThisBoot)
        {
            untouchable.Add(Scope.Host); // what it says of the host was true in an earlier boot
        }

        var names = _topology.Namespaces.Select(n => n.Name)
            .Concat(recorded.Keys.Where(k => k.StartsWith("namespace ", StringComparison.Ordinal)).Select(k => k["namespace ".Length..]))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var others = OtherClaims();
        var toDelete = new List<(string Name, AppliedEntry Entry, string Why, NetworkNamespace Held)>();
        var release = new NamespaceRelease(toDelete, untouchable, names);
        try
        {
            foreach (var name in names)
            {
                var claim = recorded.TryGetValue(NamespaceKey(name), out var entry) ? NamespaceClaim.Parse(entry) : null;
                // A plain file under the name is what a killed creation or deletion left: awaited, then removed.
                var ns = TryOpen(name) ?? (claim is not null && NetworkNamespace.Exists(name) ? AwaitNamespace(name) : null);
                if (ns is not null && Decide(name, claim, ns) is { } why)
                {
                    toDelete.Add((name, entry!, why, ns));
                }
                else
                {
                    ns?.Dispose();
                }
            }
        }
        catch
        {
            release.Dispose();
            throw;
        }

        return release;

        // Why the namespace is to be deleted, or null when it is not (and the report says why, when it should).
        string? Decide(string name, NamespaceClaim? claim, NetworkNamespace ns)
        {
            if (claim is null)
            {
                return null; // never claimed (nothing of ours can be in it)
            }

            var check = Check(claim, ns);
            if (check.Stale)
            {
                untouchable.Add(Scope.Namespace(name));
                report(new ChangeLine(ChangeKind.Left, "namespace " + name, name, NotTheRecordedOne + ": left as it is, with everything in it"));
                return null;
            }

            string? mark = null;
            string? Mark() => mark ??= ReadMark(ns);
            var identity = ns.Identity;
            var users = (others.GetValueOrDefault(name) ?? [])
                .Where(o => o.Claim.IsAbout(identity) || (o.Claim.Kind == ClaimKind.Creating && string.Equals(NamespaceClaim.CreatorIn(Mark()), o.Topology, StringComparison.Ordinal)))
                .Select(o => o.Topology)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var madeByAether = check.Ours || NamespaceClaim.CreatorIn(Mark()) is not null;
            if (!madeByAether)
            {
                return null; // someone else's: our objects in it are removed one by one
            }

            if (users.Count > 0)
            {
                report(new ChangeLine(ChangeKind.Left, "namespace " + name, name, $"left: topology {string.Join(", ", users)} still has objects in it"));
                return null;
            }

            return check.Ours ? "with everything in it" : "with everything in it; made by Aether, and no topology uses it any more";
        }
    }

    /// <summary>Forgets this topology's claims and deletes the namespaces <paramref name="release"/> decided on (the
    /// caller holds the <see cref="OwnershipLock"/>); one that cannot be deleted stays claimed, for the next
    /// destroy.</summary>
    private void DeleteNamespaces(AppliedRecordStore store, NamespaceRelease release, Action<ChangeLine> report)
    {
        var claims = NamespaceRecord(store);
        var toDelete = release.ToDelete;
        using (store.Defer())
        {
            foreach (var name in release.Names)
            {
                claims.Remove(NamespaceKey(name));
            }

            // Every one held open until all are unmounted: an unmount that drops a namespace's last reference sets
            // the kernel tearing it down, and the unmounts after it then waited on that work (0.4 ms each, where one
            // that drops no namespace takes 14 µs: 1000 took 20 to 310 ms, now about 15).
            var errors = new Exception?[toDelete.Count];
            Parallel.For(0, toDelete.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
            {
                try
                {
                    StopWireGuardIn(toDelete[i].Name);
                    NetworkNamespace.Delete(toDelete[i].Name);
                }
                catch (NetlinkException ex)
                {
                    errors[i] = ex;
                }
            });
            for (var i = 0; i < toDelete.Count; i++)
            {
                var (name, entry, why, _) = toDelete[i];
                if (errors[i] is null)
                {
                    report(new ChangeLine(ChangeKind.Delete, "namespace " + name, name, why));
                }
                else
                {
                    claims.Set(NamespaceKey(name), entry); // still there: still claimed, for the next destroy
                }
            }

            if (errors.FirstOrDefault(e => e is not null) is { } first)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first); // the kernel's error, as one deletion gives it
            }
        }
    }

    /// <summary>Forgets the recorded addresses on <paramref name="links"/>, scope by scope (links going with their
    /// peers' namespaces): they go with the links, and are not to be deleted one by one meanwhile.</summary>
    private static void ForgetAddressesOn(AppliedRecordStore store, Dictionary<Scope, HashSet<string>> links)
    {
        if (links.Count == 0)
        {
            return;
        }

        using var deferral = store.Defer();
        foreach (var (scope, names) in links)
        {
            var section = RecordOf(store, scope, "addresses");
            foreach (var key in section.Snapshot().Keys.Where(k => AddressSource.LinkOf(k) is { } link && names.Contains(link)).ToList())
            {
                section.Remove(key);
            }
        }
    }
}
