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

    /// <summary><c>=</c> with a reason: destroy left it as it is (a namespace another topology still uses, one that
    /// is no longer the one recorded).</summary>
    Left,
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
        ChangeKind.InSync or ChangeKind.Left => '=',
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

    /// <summary>Objects destroy left as they are.</summary>
    public int Left => Lines.Count(l => l.Kind == ChangeKind.Left);

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

    /// <summary>The receive buffer in bytes of the rtnetlink monitor each namespace's loop listens on while it runs, or
    /// null for the kernel's default (<c>net.core.rmem_default</c>). A small one makes the kernel drop announcements
    /// under a burst (<c>ENOBUFS</c>); the loop then checks everything, so it costs a full pass, never a missed repair.</summary>
    public int? MonitorReceiveBufferSize { get; init; }

    /// <summary>Whether destroy waits until the kernel has removed the host ends of veths whose peers were in the
    /// namespaces it deleted (it tears those namespaces down in the background after they are unmounted: about 0.5 s
    /// after the last of 1000 on the benchmark machine; at most 10 s are waited). True (the default): destroy is done
    /// when nothing of the topology is left. False: done when every namespace is unmounted and unlinked, everything
    /// else removed and the record deleted; those host ends are reported as going with their namespaces, and left
    /// alone by the host's passes.</summary>
    public bool AwaitTeardown { get; init; } = true;
}
