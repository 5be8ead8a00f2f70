using Aether.Netlink;
using Aether.Nftables;
using Aether.Reconcile;

namespace Aether.Hub;

/// <summary>What the hub last knew of its table in the kernel: the table (rules and sets), each rule's handle, and
/// the ruleset generation at which that was true. Kept across passes (one per hub): while the namespace's generation
/// is the same, nothing in any table changed and the table need not be listed again.</summary>
internal sealed class HubNftablesState
{
    private Known? _known;

    public Known? Current
    {
        get => Volatile.Read(ref _known);
        set => Volatile.Write(ref _known, value);
    }

    /// <summary>The table the hub last made the kernel hold (rules sorted, canonical), or null: a listing that shows
    /// anything else is drift, repaired by replacing the table whole.</summary>
    public string? Applied { get; set; }

    /// <summary>The table at <paramref name="Generation"/> (null: there was none), and per chain each rule's text and
    /// handle in the kernel's order.</summary>
    public sealed record Known(uint Generation, NftTable? Table, IReadOnlyDictionary<string, IReadOnlyList<(string Text, ulong Handle)>> Rules)
    {
        /// <summary>Read from the kernel (not what the hub's own last batch left).</summary>
        public bool Listed { get; init; }

        public static Known Of(uint generation, NftTable? table) => new(generation, table, table is null
            ? new Dictionary<string, IReadOnlyList<(string, ulong)>>(StringComparer.Ordinal)
            : table.Chains.ToDictionary(
                c => c.Name,
                c => (IReadOnlyList<(string, ulong)>)[.. c.Rules.Select((r, i) => (r.ToString(), table.RuleHandles.GetValueOrDefault(c.Name) is { } h && i < h.Count ? h[i] : 0UL))],
                StringComparer.Ordinal))
        {
            Listed = true,
        };
    }
}

/// <summary>An operation on the hub's table: <see cref="OperationKind.Update"/> with a batch changes only the rules
/// and set elements that differ; without one (and <see cref="OperationKind.Create"/>) the table is replaced whole;
/// <see cref="OperationKind.Delete"/> removes it.</summary>
internal sealed record HubNftablesOperation(OperationKind Kind, ObjectKey Key, string Reason, NftTable? Table, NftBatch? Batch, HubNftablesState.Known Basis)
    : Operation(Kind, Stage.Nftables, Key, Reason);

/// <summary>
/// The hub's nftables table, kept incrementally: the rules of its chains are order-free (drops and masquerades of
/// disjoint networks), so a table that differs from the desired one only in rules and set elements is changed by one
/// batch that deletes the rules no longer wanted (by handle), adds the new ones and adds or deletes set elements; the
/// rules of other networks, and the base chains' hooks, are left alone. Anything else (no table, another chain or
/// header, a foreign object in it, a handle unknown) replaces the table whole, as a repair. The table is listed only
/// when the namespace's ruleset generation moved since the hub last knew it.
/// </summary>
internal sealed class HubNftablesSource(NftContext context, NftTable? desired, HubNftablesState state, Scope scope) : ISplitPassSource
{
    private ObjectKey Key => new(ObjectKind.NftablesTable, scope, desired?.QualifiedName ?? "inet aether-hub");

    public NftFamily Family { get; init; } = NftFamily.Inet;

    public required string TableName { get; init; }

    public Task<Plan> PlanPassAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (context.Namespace is { Name: { } name } && !Aether.Netlink.Namespaces.NetworkNamespace.Exists(name))
        {
            throw new NamespaceGoneException($"namespace {name} no longer exists");
        }

        var generation = context.Generation();
        var known = state.Current;
        if (known is null || known.Generation != generation)
        {
            known = HubNftablesState.Known.Of(generation, context.GetTable(Family, TableName));
            state.Current = known;
        }

        return Task.FromResult(Diff(known));
    }

    public void Prepare(Plan plan)
    {
    }

    public Task<PassResult> ApplyPlanAsync(Plan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var applied = new List<Operation>();
        foreach (var op in plan.OfType<HubNftablesOperation>())
        {
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                Apply(op);
                applied.Add(op);
            }
            catch (Exception ex) when (ex is NftablesException or NetlinkException or FormatException)
            {
                state.Current = null; // listed again at the next pass
                var error = ex is NftablesException { Errno: not (Errno.EINTR or Errno.EAGAIN or Errno.EBUSY or Errno.ENOBUFS or Errno.ENOMEM or Errno.ENOENT) }
                    ? new TerminalReconcileException($"nftables table {Family.ToNftName()} {TableName} in {context.Namespace?.ToString() ?? "the host"}: {ex.Message}", ex)
                    : ex;
                return Task.FromResult(new PassResult(plan, applied, [.. plan.Skip(applied.Count)], error));
            }
        }

        return Task.FromResult(new PassResult(plan, applied, [], null));
    }

    private void Apply(HubNftablesOperation op)
    {
        if (op.Kind == OperationKind.Delete)
        {
            context.DeleteTable(Family, TableName);
            state.Current = null;
            state.Applied = null;
            return;
        }

        if (op.Batch is not { } batch)
        {
            context.ReplaceTable(op.Table!);
            state.Current = null; // the next pass lists what the kernel made of it
            state.Applied = op.Table!.WithSortedRules().ToCanonicalJson();
            return;
        }

        var handles = context.RunBatch(batch);
        state.Applied = op.Table!.WithSortedRules().ToCanonicalJson();
        var generation = context.Generation();
        if (generation != unchecked(op.Basis.Generation + 1))
        {
            state.Current = null; // another transaction came between: what the table holds is read again
            return;
        }

        // The rules kept, with their handles, then the ones added, with theirs.
        var deleted = new HashSet<ulong>(batch.DeletedRules);
        var rules = op.Basis.Rules.ToDictionary(r => r.Key, r => r.Value.Where(x => !deleted.Contains(x.Handle)).ToList(), StringComparer.Ordinal);
        for (var i = 0; i < batch.AddedRules.Count; i++)
        {
            var (chain, rule) = batch.AddedRules[i];
            if (!rules.TryGetValue(chain, out var list))
            {
                rules[chain] = list = [];
            }

            list.Add((rule.ToString(), handles[i]));
        }

        state.Current = new HubNftablesState.Known(generation, op.Table, rules.ToDictionary(r => r.Key, r => (IReadOnlyList<(string, ulong)>)r.Value, StringComparer.Ordinal));
    }

    private Plan Diff(HubNftablesState.Known known)
    {
        var have = known.Table;
        if (desired is null)
        {
            return have is null ? Plan.Empty : Single(OperationKind.Delete, "no longer desired", null, null, known);
        }

        if (have is null)
        {
            return Single(OperationKind.Create, "missing", desired, null, known);
        }

        var haveSorted = have.WithSortedRules().ToCanonicalJson();
        if (string.Equals(desired.WithSortedRules().ToCanonicalJson(), haveSorted, StringComparison.Ordinal))
        {
            state.Applied = haveSorted;
            return Plan.Empty;
        }

        // Changed in place only on top of what the hub itself left there; a table changed by anyone else (a rule
        // deleted with nft) is drift, and replaced whole.
        var drifted = known.Listed && !string.Equals(state.Applied, haveSorted, StringComparison.Ordinal);
        if (drifted || !string.Equals(desired.Skeleton().ToCanonicalJson(), have.Skeleton().ToCanonicalJson(), StringComparison.Ordinal)
            || known.Rules.Values.Any(rs => rs.Any(r => r.Handle == 0)))
        {
            return Single(OperationKind.Update, "replaced whole: " + (drifted ? "changed since the hub applied it: " : "") + Differences(desired, have), desired, null, known);
        }

        var batch = new NftBatch(Family, TableName);
        var changes = new List<string>();

        // Rules no longer wanted go first (they may name a set that goes).
        var added = new List<(string Chain, NftRule Rule)>();
        foreach (var chain in desired.Chains)
        {
            var kernel = known.Rules.GetValueOrDefault(chain.Name) ?? [];
            var left = kernel.GroupBy(r => r.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => new Queue<ulong>(g.Select(r => r.Handle)), StringComparer.Ordinal);
            foreach (var rule in chain.Rules)
            {
                if (left.TryGetValue(rule.ToString(), out var q) && q.Count > 0)
                {
                    q.Dequeue();
                }
                else
                {
                    added.Add((chain.Name, rule));
                }
            }

            var extra = left.Values.SelectMany(q => q).ToList();
            foreach (var handle in extra)
            {
                batch.DeleteRule(chain.Name, handle);
            }

            if (extra.Count > 0)
            {
                changes.Add($"chain {chain.Name}: {extra.Count} rule(s) deleted");
            }
        }

        var wantSets = desired.Sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var haveSets = have.Sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var set in desired.Sets)
        {
            if (!haveSets.TryGetValue(set.Name, out var there))
            {
                batch.AddSet(set);
                changes.Add($"set {set.Name} added");
                continue;
            }

            var missing = set.Elements.Except(there.Elements, StringComparer.Ordinal).ToList();
            var extra = there.Elements.Except(set.Elements, StringComparer.Ordinal).ToList();
            batch.AddElements(set.Name, missing).DeleteElements(set.Name, extra);
            if (missing.Count + extra.Count > 0)
            {
                changes.Add($"set {set.Name}: {missing.Count} element(s) added, {extra.Count} deleted");
            }
        }

        foreach (var (chain, rule) in added)
        {
            batch.AddRule(chain, rule);
        }

        if (added.Count > 0)
        {
            changes.Add($"{added.Count} rule(s) added");
        }

        foreach (var set in have.Sets.Where(s => !wantSets.ContainsKey(s.Name)))
        {
            batch.DeleteSet(set.Name);
            changes.Add($"set {set.Name} deleted");
        }

        return Single(OperationKind.Update, string.Join("; ", changes), desired, batch, known);
    }

    private static string Differences(NftTable want, NftTable have)
    {
        var parts = new List<string>();
        var wanted = want.Skeleton().Chains.Select(c => c.DescribeHeader() + " " + c.Name).ToHashSet(StringComparer.Ordinal);
        var found = have.Skeleton().Chains.Select(c => c.DescribeHeader() + " " + c.Name).ToHashSet(StringComparer.Ordinal);
        parts.AddRange(wanted.Except(found, StringComparer.Ordinal).Select(c => "chain " + c + " missing or different"));
        parts.AddRange(found.Except(wanted, StringComparer.Ordinal).Select(c => "chain " + c + " not desired"));
        parts.AddRange(have.OtherObjectNames.Except(want.OtherObjectNames, StringComparer.Ordinal).Select(o => o + " not desired"));
        return parts.Count > 0 ? string.Join("; ", parts) : "differs from the desired table";
    }

    private Plan Single(OperationKind kind, string reason, NftTable? table, NftBatch? batch, HubNftablesState.Known basis) =>
        Plan.Of([new HubNftablesOperation(kind, Key, reason, table, batch, basis)]);
}
