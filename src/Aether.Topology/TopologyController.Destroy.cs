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
    /// then owned objects left in the host and in namespaces the topology used but did not create are removed, and
    /// sysctls there get their original values. A namespace that is no longer the one the record names is left as it
    /// is, with everything in it, and the report says so.</summary>
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
        var (deleted, untouchable) = ReleaseNamespaces(store, Report);
        PhaseTimings.End("destroy: delete namespaces");

        // Host ends of veths whose peers were in those namespaces go when the kernel tears the namespaces down.
        var goingWithNamespaces = _topology.Links
            .Where(l => l.Namespace is null && l.Peer is not null && PeerScope(l).Name is { } p && deleted.Contains(p))
            .Select(l => l.Name)
            .ToHashSet(StringComparer.Ordinal);
        // Unless told to wait, they are not waited for (the kernel removes them 0.7 s after the last of 1000
        // namespaces is unmounted, in the background): the host's passes leave them and their addresses alone.
        if (_awaitTeardown)
        {
            await WaitGoneAsync(goingWithNamespaces, cancellationToken).ConfigureAwait(false);
            PhaseTimings.End("destroy: await host ends");
        }

        foreach (var name in goingWithNamespaces)
        {
            Report(new ChangeLine(ChangeKind.Delete, "link " + name, null, "with its peer's namespace"));
        }

        using (var session = new Session(this, store, createMissing: false, empty: true) { Departing = goingWithNamespaces })
        {
            ForgetAddressesOn(store, goingWithNamespaces);
            var scopes = Scopes.Where(s => !(s.Name is { } name && deleted.Contains(name)) && !untouchable.Contains(s) && session.Exists(s)).ToList();
            // Stage by stage, every scope's part of a stage, and the record written once per stage (not once per
            // object: a thousand host addresses forgotten one write at a time cost seconds). A destroy killed
            // mid-stage leaves entries of objects already removed; the next destroy finds them gone and forgets them.
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
                        Report(line);
                    }

                    if (result.Error is not null)
                    {
                        return new TopologyResult(lines, clock.Elapsed, result.Error.Message);
                    }
                }
            }
        }

        PhaseTimings.End("destroy: other objects");
        if (Directory.Exists(StatePath))
        {
            Directory.Delete(StatePath, recursive: true);
        }

        return new TopologyResult(lines, clock.Elapsed, null);
    }

    /// <summary>Decides, under the <see cref="OwnershipLock"/>, what becomes of every namespace this topology claims,
    /// deletes those it may, and forgets its claims. A namespace is deleted when an Aether topology made it (this one,
    /// proven by the identity recorded at creation, or any, by the mark inside it) and no other topology claims it:
    /// the last topology out of a shared namespace deletes it. One whose claim names another namespace is left.</summary>
    /// <returns>The namespaces deleted, and the scopes whose records are about another namespace (not to be touched).</returns>
    private (HashSet<string> Deleted, HashSet<Scope> Untouchable) ReleaseNamespaces(AppliedRecordStore store, Action<ChangeLine> report)
    {
        var deleted = new HashSet<string>(StringComparer.Ordinal);
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
        using var gate = OwnershipLock.Acquire(StateRoot);
        var others = OtherClaims();
        var toDelete = new List<(string Name, AppliedEntry Entry, string Why)>();
        using (store.Defer())
        {
            foreach (var name in names)
            {
                var claim = recorded.TryGetValue(NamespaceKey(name), out var entry) ? NamespaceClaim.Parse(entry) : null;
                claims.Remove(NamespaceKey(name));
                // A plain file under the name is what a killed creation or deletion left: awaited, then removed.
                using var ns = TryOpen(name) ?? (claim is not null && NetworkNamespace.Exists(name) ? AwaitNamespace(name) : null);
                if (ns is null || claim is null)
                {
                    continue; // gone with its contents, or never claimed (nothing of ours can be in it)
                }

                var check = Check(claim, ns);
                if (check.Stale)
                {
                    untouchable.Add(Scope.Namespace(name));
                    report(new ChangeLine(ChangeKind.Left, "namespace " + name, name, NotTheRecordedOne + ": left as it is, with everything in it"));
                    continue;
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
                    continue; // someone else's: our objects in it are removed one by one
                }

                if (users.Count > 0)
                {
                    report(new ChangeLine(ChangeKind.Left, "namespace " + name, name, $"left: topology {string.Join(", ", users)} still has objects in it"));
                    continue;
                }

                toDelete.Add((name, entry!, check.Ours ? "with everything in it" : "with everything in it; made by Aether, and no topology uses it any more"));
            }

            // Unmounted several at once: an unmount mostly waits (an RCU grace period), and concurrent ones share
            // the wait (1000 one after the other took 0.35 s).
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
                var (name, entry, why) = toDelete[i];
                if (errors[i] is null)
                {
                    deleted.Add(name);
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

        return (deleted, untouchable);
    }

    /// <summary>Forgets the host's recorded addresses on <paramref name="links"/> (host ends going with their peers'
    /// namespaces): they go with the links, and are not to be deleted one by one meanwhile.</summary>
    private static void ForgetAddressesOn(AppliedRecordStore store, HashSet<string> links)
    {
        if (links.Count == 0)
        {
            return;
        }

        using var deferral = store.Defer();
        var section = RecordOf(store, Scope.Host, "addresses");
        foreach (var key in section.Snapshot().Keys.Where(k => AddressSource.LinkOf(k) is { } link && links.Contains(link)).ToList())
        {
            section.Remove(key);
        }
    }
}
