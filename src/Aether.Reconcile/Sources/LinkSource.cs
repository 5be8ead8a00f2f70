using System.Runtime.CompilerServices;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>A link Aether should keep in one namespace. A veth's peer may live in another namespace
/// (<see cref="Veth.PeerNamespace"/>); it is kept up along with its partner.</summary>
/// <param name="Name">The link's name.</param>
/// <param name="Kind">Its kind: <see cref="Veth"/> (with a peer name) or <see cref="Bridge"/>.</param>
public sealed record DesiredLink(string Name, LinkKindData Kind)
{
    /// <summary>Administratively up (both ends of a veth).</summary>
    public bool Up { get; init; } = true;

    /// <summary>The MTU, or whatever the kernel gives.</summary>
    public int? Mtu { get; init; }
}

/// <summary>What <see cref="LinkSource"/> reads: the links of its namespace, the peers' namespaces' links, and the
/// nsid under which its namespace knows each peer namespace.</summary>
/// <param name="Links">The links of the source's namespace by name.</param>
/// <param name="Peers">For each desired veth, its peer as found in the peer's namespace (or null).</param>
/// <param name="PeerNsIds">For each desired veth, the nsid of its peer's namespace as seen from the source's namespace.</param>
public sealed record LinkObservation(IReadOnlyDictionary<string, Link> Links, IReadOnlyDictionary<string, Link?> Peers, IReadOnlyDictionary<string, int> PeerNsIds);

/// <summary>An operation on a link, with what it needs to run.</summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Target">The link named for people.</param>
/// <param name="Reason">Why.</param>
/// <param name="Link">The desired link (null when deleting one that is not desired).</param>
/// <param name="Index">The existing link's ifindex (updates and deletes).</param>
public sealed record LinkOperation(OperationKind Kind, string Target, string Reason, DesiredLink? Link, int Index)
    : Operation(Kind, Stages.Links, Target, Reason)
{
    /// <summary>The link exists but belongs to someone else: applying reports a conflict, never takes it over.</summary>
    public bool Conflict { get; init; }

    /// <summary>Only the veth's peer needs bringing up.</summary>
    public bool PeerOnly { get; init; }
}

/// <summary>
/// Links in one namespace: creates what is missing, brings links up, sets MTUs, deletes owned links that are no
/// longer desired, and repairs a veth whose peer is missing or is not its partner (deleted and recreated). Owned
/// links carry the alias <c>aether:OWNER</c>; a link of the same name without it is a conflict, reported, not taken.
/// </summary>
public sealed class LinkSource : Source<LinkObservation>, IDisposable
{
    private readonly NetlinkHandle _handle;
    private readonly IReadOnlyList<DesiredLink> _desired;
    private readonly Dictionary<ulong, NetlinkHandle> _peerHandles = [];
    private readonly Lock _lock = new();

    /// <summary>Creates the source for <paramref name="handle"/>'s namespace.</summary>
    /// <exception cref="ArgumentException">An owner or a desired link is invalid, or a name is desired twice.</exception>
    public LinkSource(NetlinkHandle handle, string owner, IReadOnlyList<DesiredLink> desired)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(desired);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in desired)
        {
            new LinkSpec(link.Name, link.Kind) { Mtu = link.Mtu }.Validate();
            if (link.Kind is not (Veth or Bridge))
            {
                throw new ArgumentException($"link '{link.Name}': kind {link.Kind.Kind} is not managed by this source yet", nameof(desired));
            }

            if (!names.Add(link.Name))
            {
                throw new ArgumentException($"link '{link.Name}' is desired twice", nameof(desired));
            }
        }

        _handle = handle;
        _desired = desired;
        Mark = "aether:" + owner;
    }

    /// <summary>The alias that marks links as owned.</summary>
    public string Mark { get; }

    /// <inheritdoc/>
    public override string Name => "links in " + SourceNamespace.Describe(_handle);

    /// <inheritdoc/>
    public override async Task<LinkObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        SourceNamespace.ThrowIfGone(_handle.Namespace);
        var links = (await _handle.ListLinksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var peers = new Dictionary<string, Link?>(StringComparer.Ordinal);
        var nsids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var link in _desired)
        {
            if (link.Kind is Veth { PeerName: { } peerName } veth)
            {
                peers[link.Name] = await PeerHandleOf(link).FindLinkAsync(peerName, cancellationToken).ConfigureAwait(false);
                if (veth.PeerNamespace is not null)
                {
                    nsids[link.Name] = await _handle.GetNsIdAsync(veth.PeerNamespace, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return new LinkObservation(links, peers, nsids);
    }

    /// <inheritdoc/>
    public override Plan Diff(LinkObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        var desiredNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var want in _desired)
        {
            desiredNames.Add(want.Name);
            if (want.Kind is Veth { PeerName: { } samePeer, PeerNamespace: null })
            {
                desiredNames.Add(samePeer); // the peer carries the mark too, and lives here
            }

            var target = "link " + want.Name;
            if (!observed.Links.TryGetValue(want.Name, out var have))
            {
                ops.Add(new LinkOperation(OperationKind.Create, target, "missing", want, 0));
                continue;
            }

            if (!string.Equals(have.Alias, Mark, StringComparison.Ordinal))
            {
                ops.Add(new LinkOperation(OperationKind.Update, target, $"exists but is not ours (alias '{have.Alias}')", want, have.Index) { Conflict = true });
                continue;
            }

            if (BrokenPair(want, have, observed) is { } why)
            {
                var strayPeer = observed.Peers.GetValueOrDefault(want.Name);
                if (strayPeer is not null && !string.Equals(strayPeer.Alias, Mark, StringComparison.Ordinal))
                {
                    ops.Add(new LinkOperation(OperationKind.Update, "peer of " + target, $"{why}, and {strayPeer.Name} is not ours (alias '{strayPeer.Alias}')", want, strayPeer.Index) { Conflict = true });
                    continue;
                }

                ops.Add(new LinkOperation(OperationKind.Delete, target, why, null, have.Index));
                if (strayPeer is not null)
                {
                    ops.Add(new LinkOperation(OperationKind.Delete, "peer of " + target, "a stale peer: " + why, want, strayPeer.Index) { PeerOnly = true });
                }

                ops.Add(new LinkOperation(OperationKind.Create, target, "recreated: " + why, want, 0));
                continue;
            }

            var changes = new List<string>();
            if (want.Up && !have.IsUp)
            {
                changes.Add("down, want up");
            }

            if (want.Mtu is int mtu && have.Mtu != mtu)
            {
                changes.Add($"MTU {have.Mtu}, want {mtu}");
            }

            if (changes.Count > 0)
            {
                ops.Add(new LinkOperation(OperationKind.Update, target, string.Join(", ", changes), want, have.Index));
            }

            if (want.Up && want.Kind is Veth && observed.Peers.GetValueOrDefault(want.Name) is { IsUp: false } peer)
            {
                ops.Add(new LinkOperation(OperationKind.Update, "peer of " + target, $"{peer.Name} is down, want up", want, peer.Index) { PeerOnly = true });
            }
        }

        foreach (var have in observed.Links.Values)
        {
            if (string.Equals(have.Alias, Mark, StringComparison.Ordinal) && !desiredNames.Contains(have.Name))
            {
                ops.Add(new LinkOperation(OperationKind.Delete, "link " + have.Name, "no longer desired", null, have.Index));
            }
        }

        return Plan.Of(ops);
    }

    /// <inheritdoc/>
    public override async Task ApplyAsync(Operation operation, CancellationToken cancellationToken)
    {
        var op = operation as LinkOperation ?? throw new ArgumentException($"not a link operation: {operation}", nameof(operation));
        if (op.Conflict)
        {
            throw new TerminalReconcileException($"{op.Target} {op.Reason}: not taking it over");
        }

        switch (op.Kind)
        {
            case OperationKind.Delete when op.PeerOnly:
                await PeerHandleOf(op.Link!).DeleteLinkAsync(op.Index, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Delete:
                await _handle.DeleteLinkAsync(op.Index, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Create:
                var want = op.Link!;
                await _handle.CreateLinkAsync(new LinkSpec(want.Name, want.Kind) { Up = want.Up, Mtu = want.Mtu, Alias = Mark }, cancellationToken).ConfigureAwait(false);
                if (want.Kind is Veth { PeerName: { } peerName })
                {
                    // The peer carries the mark too, so a stale peer left by a crash can be recognised as ours.
                    await PeerHandleOf(want).SetLinkAsync(peerName, new LinkChange { Up = want.Up ? true : null, Alias = Mark }, cancellationToken).ConfigureAwait(false);
                }

                break;
            case OperationKind.Update when op.PeerOnly:
                await PeerHandleOf(op.Link!).SetUpAsync(op.Index, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Update:
                await _handle.SetLinkAsync(op.Index, new LinkChange { Up = op.Link!.Up ? true : null, Mtu = op.Link.Mtu }, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>Closes the handles opened for peer namespaces.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var handle in _peerHandles.Values)
            {
                handle.Dispose();
            }

            _peerHandles.Clear();
        }
    }

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _handle.MonitorAsync(MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <summary>Why a veth must be recreated, or null when it is a sound pair: the peer is missing, or it is not this
    /// link's partner (the peer ifindex or the peer namespace's nsid do not match: the stale pair of an earlier run).</summary>
    private static string? BrokenPair(DesiredLink want, Link have, LinkObservation observed)
    {
        if (want.Kind is not Veth { PeerName: not null } veth)
        {
            return null;
        }

        if (!string.Equals(have.Kind, "veth", StringComparison.Ordinal))
        {
            return $"is a {have.Kind ?? "plain device"}, want a veth";
        }

        var peer = observed.Peers.GetValueOrDefault(want.Name);
        if (peer is null)
        {
            return $"its peer {veth.PeerName} is missing";
        }

        var expectedNsId = veth.PeerNamespace is null ? (int?)null : observed.PeerNsIds.GetValueOrDefault(want.Name, NsId.NotAssigned);
        if (have.LinkIndex != peer.Index || (expectedNsId is int id && (id < 0 || have.LinkNetNsId != id)))
        {
            return $"its peer {veth.PeerName} is not its partner (peer ifindex {have.LinkIndex?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, found {peer.Index})";
        }

        return null;
    }

    /// <summary>The handle for a veth's peer: this source's own, or one opened (once) in the peer's namespace.</summary>
    private NetlinkHandle PeerHandleOf(DesiredLink link) =>
        link.Kind is Veth { PeerNamespace: { } ns } ? PeerHandle(ns) : _handle;

    private NetlinkHandle PeerHandle(NetworkNamespace ns)
    {
        lock (_lock)
        {
            if (!_peerHandles.TryGetValue(ns.Inode, out var handle))
            {
                handle = NetlinkHandle.OpenAt(ns);
                _peerHandles[ns.Inode] = handle;
            }

            return handle;
        }
    }
}
