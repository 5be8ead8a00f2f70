namespace Aether.Reconcile;

/// <summary>What an operation does to a kernel object.</summary>
public enum OperationKind
{
    /// <summary>Make an object that is missing.</summary>
    Create,

    /// <summary>Change an object that exists but differs.</summary>
    Update,

    /// <summary>Remove an owned object that is no longer desired, or one that is broken (before its re-creation).</summary>
    Delete,
}

/// <summary>
/// One step of a plan. Sources derive their own typed operations from it (a link source's operation carries the
/// link spec); the loop only needs what is here.
/// </summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Stage">Dependency order (see <see cref="Reconcile.Stage"/>).</param>
/// <param name="Key">The object, typed: its kind, name and scope.</param>
/// <param name="Reason">Why it is needed (<c>missing</c>, <c>MTU 1400, want 1500</c>, <c>peer is not its partner</c>).</param>
public record Operation(OperationKind Kind, Stage Stage, ObjectKey Key, string Reason)
{
    private string? _target;

    /// <summary>The object (not settable by <c>with</c>: <see cref="Target"/> is made from it).</summary>
    public ObjectKey Key { get; } = Key;

    /// <summary>The object as its source names it (<c>link veth-host</c>), made from <see cref="Key"/> once, when
    /// first asked for.</summary>
    public string Target => _target ??= Key.ToString();

    /// <summary>The object is someone else's (a foreign link, address or route where ours should be): applying it
    /// reports the conflict as terminal and changes nothing. A controller can refuse a whole plan that holds one
    /// before it touches anything.</summary>
    public bool Conflict { get; init; }

    /// <summary>Equal when of the same type with the same values (the cached <see cref="Target"/> aside).</summary>
    public virtual bool Equals(Operation? other) =>
        other is not null && (ReferenceEquals(this, other) || (EqualityContract == other.EqualityContract && Kind == other.Kind && Stage == other.Stage
            && Key.Equals(other.Key) && string.Equals(Reason, other.Reason, StringComparison.Ordinal) && Conflict == other.Conflict));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(EqualityContract, Kind, Stage, Key, Reason, Conflict);

    /// <inheritdoc/>
    public sealed override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Target}: {Reason}";
}

/// <summary>The stages operations are ordered by: a stage's objects need those of the stages before it.</summary>
public enum Stage
{
    /// <summary>Links come first: everything else hangs off them.</summary>
    Links,

    /// <summary>Devices configured over their own protocol once they exist (WireGuard): after the links their
    /// traffic leaves by.</summary>
    Devices,

    /// <summary>Addresses need their link.</summary>
    Addresses,

    /// <summary>Routes need their addresses (a gateway must be reachable).</summary>
    Routes,

    /// <summary>Sysctls.</summary>
    Sysctls,

    /// <summary>nftables tables: rules name interfaces and addresses, so they come after them.</summary>
    Nftables,

    /// <summary>Open vSwitch bridges and their ports, configured over OVSDB: a port opens a device by name, so
    /// they come after the links.</summary>
    Ovs,
}

/// <summary>
/// An ordered list of operations. Deletes run first, latest stage first (routes before the addresses and links
/// they need); then creates and updates, earliest stage first (links before addresses before routes). Within a
/// group the order the source gave is kept.
/// </summary>
public sealed class Plan : IReadOnlyList<Operation>
{
    private readonly Operation[] _operations;

    private Plan(Operation[] operations) => _operations = operations;

    /// <summary>A plan with nothing to do.</summary>
    public static Plan Empty { get; } = new([]);

    /// <summary>The number of operations.</summary>
    public int Count => _operations.Length;

    /// <summary>Whether there is nothing to do.</summary>
    public bool IsEmpty => _operations.Length == 0;

    /// <inheritdoc/>
    public Operation this[int index] => _operations[index];

    /// <summary>Orders <paramref name="operations"/> into a plan.</summary>
    public static Plan Of(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        Operation[] ops = [.. operations];
        if (ops.Length < 2)
        {
            return ops.Length == 0 ? Empty : new Plan(ops);
        }

        // One sort key per operation: its group and stage above, its place below, so that the sort keeps the order
        // the source gave within a group (Array.Sort is not stable by itself), and nothing is boxed per comparison
        // (an enum's CompareTo takes an object: a plan of a thousand made a thousand stages a comparison).
        var keys = new long[ops.Length];
        for (var i = 0; i < ops.Length; i++)
        {
            var stage = (int)ops[i].Stage;
            var group = ops[i].Kind == OperationKind.Delete ? byte.MaxValue - stage : (byte.MaxValue + 1) + stage;
            keys[i] = ((long)group << 32) | (uint)i;
        }

        Array.Sort(keys, ops);
        return new Plan(ops);
    }

    /// <inheritdoc/>
    public IEnumerator<Operation> GetEnumerator() => ((IEnumerable<Operation>)_operations).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
