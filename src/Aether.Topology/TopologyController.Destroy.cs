using System.Diagnostics;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Topology;

public sealed partial class TopologyController
{
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
            .Where(l => l.Namespace is null && l.Peer is not null && PeerScope(l).Name is { } p && deleted.Contains(p))
            .Select(l => l.Name)
            .ToHashSet(StringComparer.Ordinal);
        await WaitGoneAsync(goingWithNamespaces, cancellationToken).ConfigureAwait(false);
        foreach (var name in goingWithNamespaces)
        {
            Report(new ChangeLine(ChangeKind.Delete, "link " + name, null, "with its peer's namespace"));
        }

        using (var session = new Session(this, store, createMissing: false, empty: true))
        {
            foreach (var scope in Scopes.Where(s => !(s.Name is { } name && deleted.Contains(name)) && session.Exists(s)))
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
}
