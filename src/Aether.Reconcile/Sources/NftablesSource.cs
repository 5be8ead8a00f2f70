using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Aether.Netlink;
using Aether.Nftables;

namespace Aether.Reconcile.Sources;

/// <summary>How an <see cref="NftablesSource"/> names and records its table.</summary>
public sealed record NftablesSourceOptions
{
    /// <summary>The table's family: <see cref="NftFamily.Inet"/> (IPv4 and IPv6) unless set.</summary>
    public NftFamily Family { get; init; } = NftFamily.Inet;

    /// <summary>The last-applied record; null is a fresh record kept in memory. Give each source its own: the key
    /// does not name the namespace.</summary>
    public AppliedRecord? Record { get; init; }
}

/// <summary>What <see cref="NftablesSource"/> reads: its own table as the kernel has it (null when there is none),
/// and a snapshot of the record's nftables entries.</summary>
/// <param name="Table">The table, read with <c>list table</c>; nothing outside it is read.</param>
/// <param name="Record">The last-applied record's entries (only keys starting with <c>nftables </c> are read).</param>
public sealed record NftablesObservation(NftTable? Table, IReadOnlyDictionary<string, AppliedEntry> Record);

/// <summary>An operation on the source's table.</summary>
/// <param name="Kind">Create and update replace the whole table in one transaction; delete removes it.</param>
/// <param name="Key">The table (<c>nftables inet aether-lab</c>, also its record key).</param>
/// <param name="Reason">Why (<c>missing</c>, <c>chain postrouting: rule 1 missing</c>).</param>
/// <param name="Table">The table to install (null when deleting).</param>
public sealed record NftablesOperation(OperationKind Kind, ObjectKey Key, string Reason, NftTable? Table)
    : Operation(Kind, Stage.Nftables, Key, Reason)
{
    /// <summary>The table is gone already: only its record entry is dropped.</summary>
    public bool RecordOnly { get; init; }
}

/// <summary>
/// nftables in one namespace: one table of Aether's own, <c>inet aether-OWNER</c>, kept exactly as desired. The table
/// is what marks ownership: nothing outside it is ever read back as ours or changed, and everything inside it is
/// ours (a chain or rule added to it by hand is drift and goes at the next pass). It is observed with one
/// <c>list table</c>, compared as a whole, and when it differs replaced as a whole in one transaction (add, delete
/// and re-create the table with its chains and rules), so traffic never meets half a ruleset.
/// <para>
/// nft may print a rule back differently than it was given (<c>in</c> as <c>==</c>, a string prefix as a prefix
/// object). So after each apply the table is read back and both forms go into the last-applied record; the table is
/// in sync when it equals the desired form, or when the desired form is the one recorded and the table equals what
/// the kernel showed for it. A desired form that never reads back the same therefore costs one replace after a
/// restart with an empty record, and none after that.
/// </para>
/// </summary>
public sealed class NftablesSource : Source<NftablesObservation, NftablesOperation>
{
    /// <summary>What every table name of Aether's begins with.</summary>
    public const string TablePrefix = "aether-";

    private const string KeyPrefix = "nftables ";

    private readonly NftContext? _context;
    private readonly NftTable? _desired;
    private readonly AppliedRecord _record;

    /// <summary>Creates the source for <paramref name="context"/>'s namespace: the table <c>aether-OWNER</c> holding
    /// <paramref name="chains"/>. No chains means no table: an existing one is deleted.</summary>
    /// <exception cref="ArgumentException">The owner, a chain or an option is invalid, or a chain is given twice.</exception>
    public NftablesSource(NftContext context, string owner, IReadOnlyList<NftChain> chains, NftablesSourceOptions? options = null)
        : this(owner, chains, options)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        Scope = Scope.Of(context.Namespace);
    }

    /// <summary>A source that can only diff (for tests of the pure diff: no context).</summary>
    internal NftablesSource(string owner, IReadOnlyList<NftChain> chains, NftablesSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(chains);
        options ??= new NftablesSourceOptions();
        if (!IsValidOwner(owner, out var why))
        {
            throw new ArgumentException($"nftables owner '{owner}': {why}", nameof(owner));
        }

        if (!Enum.IsDefined(options.Family))
        {
            throw new ArgumentException($"nftables family {options.Family} is not a family", nameof(options));
        }

        Family = options.Family;
        TableName = TablePrefix + owner;
        _desired = chains.Count == 0 ? null : new NftTable(Family, TableName, chains);
        _record = options.Record ?? AppliedRecord.InMemory();
        Target = KeyPrefix + Family.ToNftName() + " " + TableName;
    }

    /// <summary>The table's family.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name (<c>aether-OWNER</c>).</summary>
    public string TableName { get; }

    /// <summary>The table this source keeps, or null when it keeps none (and removes the one it had).</summary>
    public NftTable? Desired => _desired;

    /// <summary>The operation target and record key: <c>nftables inet aether-OWNER</c>.</summary>
    public string Target { get; }

    /// <summary>The last-applied record.</summary>
    public AppliedRecord Record => _record;

    private ObjectKey TableKey => new(ObjectKind.NftablesTable, Scope, Target[KeyPrefix.Length..]);

    /// <inheritdoc/>
    public override string Name => $"nftables {Family.ToNftName()} {TableName} in {Context.Namespace?.ToString() ?? "the host"}";

    private NftContext Context => _context ?? throw new InvalidOperationException("this nftables source was made for diffing only");

    /// <summary>Whether <paramref name="owner"/> can name a table: 1 to 64 letters, digits, '-', '_' or '.'.</summary>
    public static bool IsValidOwner(string? owner, out string? why)
    {
        why = owner switch
        {
            null or "" => "empty",
            { Length: > 64 } => "longer than 64 characters",
            _ when !owner.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') => "only letters, digits, '-', '_' and '.' may be used",
            _ => null,
        };
        return why is null;
    }

    /// <inheritdoc/>
    public override Task<NftablesObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SourceNamespace.ThrowIfGone(Context.Namespace);
        var table = Context.GetTable(Family, TableName);
        return Task.FromResult(new NftablesObservation(table, OwnRecord()));
    }

    /// <inheritdoc/>
    public override Plan Diff(NftablesObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var have = observed.Table;
        if (have is not null && (have.Family != Family || !string.Equals(have.Name, TableName, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"observed table {have.QualifiedName} is not this source's {Family.ToNftName()} {TableName}", nameof(observed));
        }

        var found = observed.Record.TryGetValue(Target, out var entry) ? Recorded.TryParse(entry.Value) : null;
        var recorded = found?.Kernel is null ? null : found; // an intent alone says nothing of what the kernel shows
        if (_desired is null)
        {
            return have is not null ? Single(OperationKind.Delete, "no longer desired", null)
                : entry is not null ? Plan.Of([new NftablesOperation(OperationKind.Delete, TableKey, "no longer desired, and already gone: forgotten", null) { RecordOnly = true }])
                : Plan.Empty;
        }

        if (have is null)
        {
            return Single(OperationKind.Create, recorded is null ? "missing" : "missing (deleted since it was applied)", _desired);
        }

        var want = _desired.ToCanonicalJson();
        var known = recorded is not null && string.Equals(recorded.Desired, want, StringComparison.Ordinal);
        if (_desired.ContentEquals(have) || (known && string.Equals(recorded!.Kernel, have.ToCanonicalJson(), StringComparison.Ordinal)))
        {
            return Plan.Empty;
        }

        // Compared with what the kernel showed for this desired table when it was last applied, when that is known:
        // so the reason names the real drift, not the way nft prints a rule.
        var expected = known && recorded!.Kernel is { } kernelForm && TryParse(kernelForm) is { } printed ? printed : _desired;
        return Single(OperationKind.Update, Differences(expected, have), _desired);
    }

    /// <inheritdoc/>
    /// <exception cref="NftablesException">Retryable: the kernel was busy or out of memory.</exception>
    /// <exception cref="TerminalReconcileException">libnftables refused the table, or the kernel rejected it: as it is,
    /// it can never be applied.</exception>
    protected override Task ApplyOperationAsync(NftablesOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        cancellationToken.ThrowIfCancellationRequested();
        var context = Context;
        if (op.Kind == OperationKind.Delete)
        {
            if (!op.RecordOnly)
            {
                Guard(() => context.DeleteTable(Family, TableName));
            }

            _record.Remove(Target);
            return Task.CompletedTask;
        }

        var table = op.Table ?? throw new ArgumentException($"{op}: no table to install", nameof(op));
        Guard(() => context.ReplaceTable(table));

        // What the kernel made of it, recorded beside what was asked for (see the class remarks).
        if (context.GetTable(Family, TableName) is { } kernel)
        {
            _record.Set(Target, new AppliedEntry(new Recorded(table.ToCanonicalJson(), kernel.ToCanonicalJson()).ToJson()));
        }

        return Task.CompletedTask;
    }

    /// <summary>Records the intent to install the table before the kernel is touched, so that a crash in between
    /// leaves a record that says the table may be ours (a controller then knows to remove it when it is no longer
    /// wanted); what the kernel showed for the same desired table, when known, is kept.</summary>
    public override void Prepare(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        foreach (var op in plan.OfType<NftablesOperation>())
        {
            if (op.Table is not { } table)
            {
                continue;
            }

            var want = table.ToCanonicalJson();
            if (_record.TryGet(Target, out var entry) && Recorded.TryParse(entry.Value) is { } known && string.Equals(known.Desired, want, StringComparison.Ordinal))
            {
                continue;
            }

            _record.Set(Target, new AppliedEntry(new Recorded(want, null).ToJson()));
        }
    }

    /// <summary>Checks the desired table against libnftables and the kernel without changing anything (see
    /// <see cref="NftContext.Check"/> for what that covers). Nothing to check when no table is desired.</summary>
    /// <exception cref="NftablesException">Applying it would fail, and why.</exception>
    public Task CheckAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_desired is not null)
        {
            Context.CheckReplaceTable(_desired);
        }

        return Task.CompletedTask;
    }

    /// <summary>Removes the table (for <c>destroy</c>) and forgets it. When the namespace is gone, the table went with
    /// it: the record is only cleared.</summary>
    /// <exception cref="NftablesException">The kernel refused to delete it; it stays recorded.</exception>
    public Task ReleaseAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var gone = false;
        try
        {
            SourceNamespace.ThrowIfGone(Context.Namespace);
        }
        catch (NamespaceGoneException)
        {
            gone = true;
        }

        if (!gone)
        {
            Context.DeleteTable(Family, TableName);
        }

        _record.Remove(Target);
        return Task.CompletedTask;
    }

    /// <summary>Announcements about this source's table, and overruns, from the namespace's nf_tables monitor;
    /// changes to other tables do not wake the loop.</summary>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>A table read from a canonical text, or null when the text is not one (a damaged record).</summary>
    private static NftTable? TryParse(string canonical)
    {
        try
        {
            return NftTable.Parse(canonical);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>What differs between the table as expected and as found, as a person would say it.</summary>
    internal static string Differences(NftTable expected, NftTable have)
    {
        var parts = new List<string>();
        var wanted = expected.Chains.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var found = have.Chains.ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var chain in expected.Chains)
        {
            if (!found.TryGetValue(chain.Name, out var there))
            {
                parts.Add($"chain {chain.Name} missing");
                continue;
            }

            if (!string.Equals(there.DescribeHeader(), chain.DescribeHeader(), StringComparison.Ordinal))
            {
                parts.Add($"chain {chain.Name}: {there.DescribeHeader()}, want {chain.DescribeHeader()}");
            }

            parts.AddRange(RuleDifferences(chain, there));
        }

        parts.AddRange(have.Chains.Where(c => !wanted.ContainsKey(c.Name)).Select(c => $"chain {c.Name} not desired"));
        parts.AddRange(have.OtherObjectNames.Except(expected.OtherObjectNames, StringComparer.Ordinal).Select(o => o + " not desired"));
        parts.AddRange(expected.OtherObjectNames.Except(have.OtherObjectNames, StringComparer.Ordinal).Select(o => o + " missing"));
        return parts.Count > 0 ? string.Join("; ", parts) : "differs from the desired table";
    }

    private static IEnumerable<string> RuleDifferences(NftChain want, NftChain have)
    {
        var count = Math.Min(want.Rules.Count, have.Rules.Count);
        var differing = Enumerable.Range(0, count).Where(i => !string.Equals(want.Rules[i].ToString(), have.Rules[i].ToString(), StringComparison.Ordinal)).ToList();
        if (have.Rules.Count < want.Rules.Count)
        {
            // A rule deleted by hand: the ones after it have moved up.
            var missing = want.Rules.Count - have.Rules.Count;
            yield return $"chain {want.Name}: {Count(missing, "rule")} missing ({have.Rules.Count} of {want.Rules.Count} present)";
        }
        else if (have.Rules.Count > want.Rules.Count)
        {
            yield return $"chain {want.Name}: {Count(have.Rules.Count - want.Rules.Count, "rule")} not desired ({have.Rules.Count} present, want {want.Rules.Count})";
        }
        else if (differing.Count > 0)
        {
            yield return $"chain {want.Name}: {(differing.Count == 1 ? "rule" : "rules")} {string.Join(", ", differing.Select(i => i + 1))} {(differing.Count == 1 ? "differs" : "differ")}";
        }
    }

    private static string Count(int n, string what) => n == 1 ? "1 " + what : $"{n} {what}s";

    /// <summary>Runs a libnftables call, turning a refusal that retrying cannot fix into a terminal error.</summary>
    private void Guard(Action call)
    {
        try
        {
            call();
        }
        catch (NftablesException ex) when (ex.Errno is not (Errno.EINTR or Errno.EAGAIN or Errno.EBUSY or Errno.ENOBUFS or Errno.ENOMEM))
        {
            throw new TerminalReconcileException($"nftables table {Family.ToNftName()} {TableName} in {Context.Namespace?.ToString() ?? "the host"}: {ex.Message}", ex);
        }
    }

    private Plan Single(OperationKind kind, string reason, NftTable? table) => Plan.Of([new NftablesOperation(kind, TableKey, reason, table)]);

    private Dictionary<string, AppliedEntry> OwnRecord()
    {
        var own = new Dictionary<string, AppliedEntry>(StringComparer.Ordinal);
        if (_record.TryGet(Target, out var entry))
        {
            own[Target] = entry;
        }

        return own;
    }

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in NftMonitor.WatchAsync(Context.Namespace, cancellationToken).ConfigureAwait(false))
        {
            if (e.Overrun || (e.Family == Family && string.Equals(e.Table, TableName, StringComparison.Ordinal)))
            {
                yield return e;
            }
        }
    }

    /// <summary>A record entry's value: the desired table and what the kernel showed for it, both canonical; the
    /// kernel's form is null for an intent recorded before the table was applied.</summary>
    private sealed record Recorded(string Desired, string? Kernel)
    {
        public string ToJson() => new JsonObject
        {
            ["desired"] = JsonNode.Parse(Desired),
            ["kernel"] = Kernel is null ? null : JsonNode.Parse(Kernel),
        }.ToJsonString();

        public static Recorded? TryParse(string value)
        {
            try
            {
                return JsonNode.Parse(value) is JsonObject { } obj && obj["desired"] is JsonObject desired
                    ? new Recorded(desired.ToJsonString(), (obj["kernel"] as JsonObject)?.ToJsonString())
                    : null;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }
}
