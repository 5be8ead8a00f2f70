using System.Runtime.CompilerServices;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>A link Aether should keep in one namespace. A veth's peer may live in another namespace
/// (<see cref="Veth.PeerNamespace"/>); it is kept up or down along with its partner.</summary>
/// <param name="Name">The link's name.</param>
/// <param name="Kind">Its kind: <see cref="Veth"/> (with a peer name), <see cref="Bridge"/>, <see cref="Vxlan"/> or
/// <see cref="Macvlan"/>.</param>
public sealed record DesiredLink(string Name, LinkKindData Kind)
{
    /// <summary>Administratively up (true, the default) or down (both ends of a veth).</summary>
    public bool Up { get; init; } = true;

    /// <summary>The MTU, or whatever the kernel gives.</summary>
    public int? Mtu { get; init; }

    /// <summary>The bridge this link is a port of, by name, in the same namespace; null: no master (a master set by
    /// hand on an owned link is drift, and is removed).</summary>
    public string? Master { get; init; }

    /// <summary>The lower device by name, in the same namespace: required for a macvlan, the underlay of a VXLAN.</summary>
    public string? Parent { get; init; }

    /// <summary>Where the link may already be under another name or in another namespace: when it is missing here
    /// and an owned link of that name is there, it is moved (and renamed) here instead of created anew.</summary>
    public LinkOrigin? Origin { get; init; }
}

/// <summary>Where a desired link may come from: a link named <paramref name="Name"/> in <see cref="Namespace"/>
/// (null: the source's own namespace, which makes it a rename).</summary>
/// <param name="Name">The link's name there.</param>
public sealed record LinkOrigin(string Name)
{
    /// <summary>The namespace it is in, or null for the source's own.</summary>
    public NetworkNamespace? Namespace { get; init; }
}

/// <summary>What <see cref="LinkSource"/> reads: the links of its namespace, the peers' namespaces' links, and the
/// nsid under which its namespace knows each peer namespace.</summary>
/// <param name="Links">The links of the source's namespace by name.</param>
/// <param name="Peers">For each desired veth, its peer as found in the peer's namespace (or null).</param>
/// <param name="PeerNsIds">For each desired veth, the nsid of its peer's namespace as seen from the source's namespace.</param>
public sealed record LinkObservation(IReadOnlyDictionary<string, Link> Links, IReadOnlyDictionary<string, Link?> Peers, IReadOnlyDictionary<string, int> PeerNsIds)
{
    /// <summary>For each desired link that is missing and has an <see cref="DesiredLink.Origin"/>, the link found
    /// there (or null).</summary>
    public IReadOnlyDictionary<string, Link?> Origins { get; init; } = new Dictionary<string, Link?>(StringComparer.Ordinal);
}

/// <summary>An operation on a link, with what it needs to run.</summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Key">The link (or, for an operation on a veth's far end, <see cref="ObjectKind.LinkPeer"/> of the
/// desired link).</param>
/// <param name="Reason">Why.</param>
/// <param name="Link">The desired link (null when deleting one that is not desired).</param>
/// <param name="Index">The existing link's ifindex (updates and deletes).</param>
public sealed record LinkOperation(OperationKind Kind, ObjectKey Key, string Reason, DesiredLink? Link, int Index)
    : Operation(Kind, Stage.Links, Key, Reason)
{
    /// <summary>The operation acts on the veth's peer, in the peer's namespace.</summary>
    public bool PeerOnly { get; init; }

    /// <summary>The link is foreign and is being adopted (<see cref="ConflictPolicy.Adopt"/>): it gets the mark.</summary>
    public bool Adopt { get; init; }

    /// <summary>The link is at its <see cref="DesiredLink.Origin"/>, with this ifindex there: move and rename it.</summary>
    public bool Move { get; init; }
}

/// <summary>
/// Links in one namespace: creates what is missing (or moves and renames it from its <see cref="DesiredLink.Origin"/>),
/// sets up/down, MTU and master, deletes owned links that are no longer desired, and repairs what cannot be changed
/// in place: a veth whose peer is missing or is not its partner, a link of the wrong kind, a VXLAN with another VNI,
/// port, remote or underlay, a macvlan with another mode or parent (deleted and recreated, and the report says why).
/// Owned links carry the alias <c>aether:OWNER</c>; a link of the same name without it is a conflict, reported and
/// left alone, unless the source was told to adopt foreign links (<see cref="ConflictPolicy.Adopt"/>).
/// </summary>
public sealed class LinkSource : Source<LinkObservation, LinkOperation>, IDisposable
{
    private readonly NetlinkHandle _handle;
    private readonly DesiredLink[] _desired;
    private readonly ConflictPolicy _conflicts;
    private readonly Dictionary<ulong, NetlinkHandle> _peerHandles = [];
    private readonly Dictionary<NetworkNamespace, int> _nsIds = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();
    private NetworkNamespace? _current;

    /// <summary>Creates the source for <paramref name="handle"/>'s namespace.</summary>
    /// <param name="handle">The namespace's handle (the source does not own it).</param>
    /// <param name="owner">The owner's name, written into the mark.</param>
    /// <param name="desired">The links wanted there.</param>
    /// <param name="conflicts">What to do with a foreign link that has a desired name.</param>
    /// <exception cref="ArgumentException">An owner or a desired link is invalid, or a name is desired twice.</exception>
    public LinkSource(NetlinkHandle handle, string owner, IReadOnlyList<DesiredLink> desired, ConflictPolicy conflicts = ConflictPolicy.Report)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(desired);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in desired)
        {
            Validate(link);
            if (!names.Add(link.Name))
            {
                throw new ArgumentException($"link '{link.Name}' is desired twice", nameof(desired));
            }
        }

        foreach (var link in desired)
        {
            if (link.Kind is Veth { PeerName: { } peer, PeerNamespace: null } && !names.Add(peer))
            {
                throw new ArgumentException($"link '{link.Name}': its peer name '{peer}' is desired too", nameof(desired));
            }
        }

        _handle = handle;
        _conflicts = conflicts;
        Scope = Scope.Of(handle.Namespace);

        // Masters and parents first, so that one pass can create a bridge and its ports, or a device and its macvlan.
        var referenced = desired.SelectMany(l => new[] { l.Master, l.Parent }).OfType<string>().ToHashSet(StringComparer.Ordinal);
        _desired = [.. desired.Where(l => referenced.Contains(l.Name)), .. desired.Where(l => !referenced.Contains(l.Name))];
        Mark = "aether:" + owner;
    }

    /// <summary>The alias that marks links as owned.</summary>
    public string Mark { get; }

    /// <summary>How the hint monitor is opened (its receive buffer, for one); null for the defaults. A monitor that
    /// overruns its buffer yields an overrun event, which is a hint like any other: the next pass reads the truth.</summary>
    public MonitorOptions? HintOptions { get; init; }

    /// <summary>Gives the handle for a peer's (or an origin's) namespace, for a caller that has one open there already
    /// (a controller with a handle per namespace); the source does not own what it gives. Null: the source opens its
    /// own, once per namespace.</summary>
    public Func<NetworkNamespace, NetlinkHandle>? PeerHandles { get; init; }

    /// <summary>Links in this namespace that carry the mark but are another source's: the peers of veths managed
    /// from another namespace. They are never deleted here as "no longer desired".</summary>
    public IReadOnlySet<string> Claimed { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <inheritdoc/>
    public override string Name => "links in " + SourceNamespace.Describe(_handle);

    /// <inheritdoc/>
    public override async Task<LinkObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        SourceNamespace.ThrowIfGone(_handle.Namespace);
        var links = (await PassCache.ListLinksAsync(_handle, cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var peers = new Dictionary<string, Link?>(StringComparer.Ordinal);
        var nsids = new Dictionary<string, int>(StringComparer.Ordinal);
        var origins = new Dictionary<string, Link?>(StringComparer.Ordinal);
        var remote = new List<(DesiredLink Link, Veth Veth)>();
        foreach (var link in _desired)
        {
            if (link.Kind is Veth { PeerName: { } peerName } veth)
            {
                if (veth.PeerNamespace is null)
                {
                    peers[link.Name] = links.GetValueOrDefault(peerName); // in the dump already: no second request
                }
                else
                {
                    remote.Add((link, veth));
                }
            }

            if (link.Origin is { } origin && !links.ContainsKey(link.Name))
            {
                origins[link.Name] = origin.Namespace is null
                    ? links.GetValueOrDefault(origin.Name)
                    : await PeerHandle(origin.Namespace).FindLinkAsync(origin.Name, cancellationToken).ConfigureAwait(false);
            }
        }

        // Peers in other namespaces: each namespace is asked on its own handle, several at once (a thousand veths into
        // a thousand namespaces would otherwise be two thousand round trips one after the other). Within a pass of a
        // group or a controller's plan, a namespace whose links were read already is not asked again.
        var found = new (Link? Peer, int NsId)[remote.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, remote.Count), options, async (i, ct) =>
        {
            var (link, veth) = remote[i];
            var handle = PeerHandle(veth.PeerNamespace!);
            var peer = PassCache.TryGet(handle) is { } cached
                ? cached.FirstOrDefault(l => string.Equals(l.Name, veth.PeerName, StringComparison.Ordinal))
                : await handle.FindLinkAsync(veth.PeerName!, ct).ConfigureAwait(false);
            // The nsid only matters to judge an end that exists here (is its peer in that namespace?).
            found[i] = (peer, links.ContainsKey(link.Name) ? await NsIdOfAsync(veth.PeerNamespace!, ct).ConfigureAwait(false) : NsId.NotAssigned);
        }).ConfigureAwait(false);
        for (var i = 0; i < remote.Count; i++)
        {
            peers[remote[i].Link.Name] = found[i].Peer;
            nsids[remote[i].Link.Name] = found[i].NsId;
        }

        return new LinkObservation(links, peers, nsids) { Origins = origins };
    }

    /// <inheritdoc/>
    public override Plan Diff(LinkObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var byIndex = observed.Links.Values.ToDictionary(l => l.Index);
        foreach (var want in _desired)
        {
            claimed.Add(want.Name);
            if (want.Kind is Veth { PeerName: { } samePeer, PeerNamespace: null })
            {
                claimed.Add(samePeer); // the peer carries the mark too, and lives here
            }

            var target = ObjectKey.Link(Scope, want.Name);
            if (!observed.Links.TryGetValue(want.Name, out var have))
            {
                if (observed.Origins.GetValueOrDefault(want.Name) is { } from)
                {
                    var where = want.Origin!.Namespace is null ? from.Name : $"{from.Name} in {want.Origin.Namespace}";
                    var foreign = !IsOurs(from);
                    if (want.Origin.Namespace is null)
                    {
                        claimed.Add(from.Name);
                    }

                    ops.Add(new LinkOperation(OperationKind.Update, target, $"moved from {where}" + (foreign ? $" (not ours: alias '{from.Alias}')" : string.Empty), want, from.Index)
                    {
                        Move = true,
                        Conflict = foreign && _conflicts == ConflictPolicy.Report,
                        Adopt = foreign,
                    });
                    continue;
                }

                // Our end is missing but a link holds the peer's name in the peer's namespace: someone else's is a
                // conflict (creating would fail with EEXIST after the plan said all was well); ours is the orphan of
                // a pair half torn down, deleted before the pair is made again.
                if (want.Kind is Veth { PeerNamespace: not null } && observed.Peers.GetValueOrDefault(want.Name) is { } orphan)
                {
                    if (!IsOurs(orphan))
                    {
                        ops.Add(new LinkOperation(OperationKind.Create, ObjectKey.LinkPeer(Scope, want.Name), $"{orphan.Name} exists in the peer's namespace and is not ours (alias '{orphan.Alias}')", want, orphan.Index) { Conflict = true });
                        continue;
                    }

                    ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.LinkPeer(Scope, want.Name), "an orphan: its partner is missing", want, orphan.Index) { PeerOnly = true });
                }

                ops.Add(new LinkOperation(OperationKind.Create, target, "missing", want, 0));
                continue;
            }

            var adopt = false;
            if (!IsOurs(have))
            {
                if (_conflicts == ConflictPolicy.Report)
                {
                    ops.Add(new LinkOperation(OperationKind.Update, target, $"exists but is not ours (alias '{have.Alias}')", want, have.Index) { Conflict = true });
                    continue;
                }

                adopt = true;
            }

            if (Mismatch(want, have, observed) is { } why)
            {
                if (adopt)
                {
                    ops.Add(new LinkOperation(OperationKind.Update, target, $"is not ours and {why}: adopting it would mean deleting it", want, have.Index) { Conflict = true });
                    continue;
                }

                var strayPeer = observed.Peers.GetValueOrDefault(want.Name);
                if (strayPeer is not null && !IsOurs(strayPeer))
                {
                    ops.Add(new LinkOperation(OperationKind.Update, ObjectKey.LinkPeer(Scope, want.Name), $"{why}, and {strayPeer.Name} is not ours (alias '{strayPeer.Alias}')", want, strayPeer.Index) { Conflict = true });
                    continue;
                }

                ops.Add(new LinkOperation(OperationKind.Delete, target, why, null, have.Index));
                if (strayPeer is not null)
                {
                    ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.LinkPeer(Scope, want.Name), "a stale peer: " + why, want, strayPeer.Index) { PeerOnly = true });
                }

                ops.Add(new LinkOperation(OperationKind.Create, target, "recreated: " + why, want, 0));
                continue;
            }

            var changes = Changes(want, have, observed, byIndex);
            if (adopt)
            {
                changes.Insert(0, $"adopted (alias was '{have.Alias}')");
            }

            if (changes.Count > 0)
            {
                ops.Add(new LinkOperation(OperationKind.Update, target, string.Join(", ", changes), want, have.Index) { Adopt = adopt });
            }

            if (want.Kind is Veth && observed.Peers.GetValueOrDefault(want.Name) is { } peer && peer.IsUp != want.Up)
            {
                ops.Add(new LinkOperation(OperationKind.Update, ObjectKey.LinkPeer(Scope, want.Name), $"{peer.Name} is {UpDown(peer.IsUp)}, want {UpDown(want.Up)}", want, peer.Index) { PeerOnly = true });
            }
        }

        foreach (var have in observed.Links.Values)
        {
            if (IsOurs(have) && !claimed.Contains(have.Name) && !Claimed.Contains(have.Name))
            {
                ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.Link(Scope, have.Name), "no longer desired", null, have.Index));
            }
        }

        return Plan.Of(ops);
    }

    /// <inheritdoc/>
    protected override async Task ApplyOperationAsync(LinkOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        switch (op.Kind)
        {
            case OperationKind.Delete when op.PeerOnly:
                await DeleteIfPresentAsync(PeerHandleOf(op.Link!), op.Index, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Delete:
                await DeleteIfPresentAsync(_handle, op.Index, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Create:
                await CreateAsync(op.Link!, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Update when op.Move:
                await MoveAsync(op, cancellationToken).ConfigureAwait(false);
                break;
            case OperationKind.Update when op.PeerOnly:
                await IfStillThereAsync(PeerHandleOf(op.Link!).SetUpAsync(op.Index, op.Link!.Up, cancellationToken)).ConfigureAwait(false);
                break;
            case OperationKind.Update:
                await IfStillThereAsync(_handle.SetLinkAsync(op.Index, await ChangeFor(op.Link!, op.Adopt, cancellationToken).ConfigureAwait(false), cancellationToken)).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Consecutive creations of links that need no other link's ifindex (no master, no parent) go to the
    /// kernel as one batch: each creation with our mark right after it (the kernel takes no alias in a create request)
    /// and, for a veth whose peer stays here, the peer's mark and state; then the peers in other namespaces get theirs,
    /// each on its namespace's handle, several namespaces at once. A thousand veths into a thousand namespaces cost a
    /// few sends instead of three thousand round trips.</summary>
    protected override async Task<ApplyOutcome> ApplyFromAsync(Plan plan, int start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = 0;
        while (start + run < plan.Count && plan[start + run] is LinkOperation { Kind: OperationKind.Create, Conflict: false, Link: { Master: null, Parent: null } })
        {
            run++;
        }

        if (run < 2)
        {
            return await base.ApplyFromAsync(plan, start, cancellationToken).ConfigureAwait(false);
        }

        var ops = plan.Skip(start).Take(run).Cast<LinkOperation>().ToArray();
        var errors = new Exception?[ops.Length];
        var firstEntry = new int[ops.Length + 1];
        using (var batch = _handle.CreateBatch())
        {
            for (var i = 0; i < ops.Length; i++)
            {
                var want = ops[i].Link!;
                firstEntry[i] = batch.Count;
                batch.CreateLink(new LinkSpec(want.Name, want.Kind) { Up = want.Up, Mtu = want.Mtu });
                batch.SetLink(want.Name, new LinkChange { Alias = Mark });
                if (want.Kind is Veth { PeerName: { } peerName, PeerNamespace: null })
                {
                    batch.SetLink(peerName, new LinkChange { Up = want.Up ? true : null, Alias = Mark });
                }
            }

            firstEntry[ops.Length] = batch.Count;
            var result = await batch.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < ops.Length; i++)
            {
                for (var e = firstEntry[i]; e < firstEntry[i + 1] && errors[i] is null; e++)
                {
                    errors[i] = result.Errors[e];
                }
            }
        }

        // The peers that live in other namespaces: their mark, and up (the kernel creates a peer down).
        var remote = Enumerable.Range(0, ops.Length).Where(i => errors[i] is null && ops[i].Link!.Kind is Veth { PeerNamespace: not null }).ToArray();
        var options = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(remote, options, async (i, ct) =>
        {
            var want = ops[i].Link!;
            try
            {
                await PeerHandleOf(want).SetLinkAsync(((Veth)want.Kind).PeerName!, new LinkChange { Up = want.Up ? true : null, Alias = Mark }, ct).ConfigureAwait(false);
            }
            catch (NetlinkException ex)
            {
                errors[i] = ex;
            }
        }).ConfigureAwait(false);

        var applied = Enumerable.Range(0, ops.Length).Where(i => errors[i] is null).Select(i => (Operation)ops[i]).ToList();
        return new ApplyOutcome(run, applied, errors.FirstOrDefault(e => e is not null));
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>Closes the handles opened for peer and origin namespaces.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var handle in _peerHandles.Values)
            {
                handle.Dispose();
            }

            _peerHandles.Clear();
            _current?.Dispose();
            _current = null;
        }
    }

    private static void Validate(DesiredLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        var kind = link.Kind is Vxlan { Group: not null } vx && link.Parent is not null ? vx with { UnderlayIndex = 1 } : link.Kind;
        switch (link.Kind)
        {
            case Veth or Bridge or Vxlan:
                break;
            case Macvlan when link.Parent is null:
                throw new ArgumentException($"link '{link.Name}': a macvlan needs a parent", nameof(link));
            case Macvlan:
                break;
            default:
                throw new ArgumentException($"link '{link.Name}': kind {link.Kind.Kind} is not managed by this source", nameof(link));
        }

        // Parents are named here and resolved to an ifindex at apply time: validate with a stand-in index.
        new LinkSpec(link.Name, kind) { Mtu = link.Mtu, ParentIndex = link.Kind is Macvlan && link.Parent is not null ? 1 : null }.Validate();
        if (link.Kind is Vxlan { UnderlayIndex: not null })
        {
            throw new ArgumentException($"link '{link.Name}': give a VXLAN's underlay by name (Parent), not by ifindex", nameof(link));
        }

        foreach (var (what, name) in new[] { ("master", link.Master), ("parent", link.Parent), ("origin", link.Origin?.Name) })
        {
            if (name is null)
            {
                continue;
            }

            InterfaceName.Validate(name, what);
            if (string.Equals(name, link.Name, StringComparison.Ordinal) && (!string.Equals(what, "origin", StringComparison.Ordinal) || link.Origin!.Namespace is null))
            {
                throw new ArgumentException($"link '{link.Name}' cannot be its own {what}", nameof(link));
            }
        }

        if (link.Parent is not null && link.Kind is not (Macvlan or Vxlan))
        {
            throw new ArgumentException($"link '{link.Name}': a {link.Kind.Kind} has no parent", nameof(link));
        }
    }

    /// <summary>Changes a link that may have vanished since it was observed (a deletion in progress: the pass that
    /// observed it ran on the deletion's first event). Gone is not a failure worth a backoff: its deletion is a hint,
    /// and the pass it triggers recreates it.</summary>
    private static async Task IfStillThereAsync(Task change)
    {
        try
        {
            await change.ConfigureAwait(false);
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
        {
        }
    }

    /// <summary>Deletes a link; one already gone is fine (deleting a veth takes its peer with it).</summary>
    private static async Task DeleteIfPresentAsync(NetlinkHandle where, int index, CancellationToken cancellationToken)
    {
        try
        {
            await where.DeleteLinkAsync(index, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
        {
        }
    }

    private static string UpDown(bool up) => up ? "up" : "down";

    /// <summary>What can be changed in place: up/down, MTU, master.</summary>
    private static List<string> Changes(DesiredLink want, Link have, LinkObservation observed, Dictionary<int, Link> byIndex)
    {
        var changes = new List<string>();
        if (want.Up != have.IsUp)
        {
            changes.Add($"{UpDown(have.IsUp)}, want {UpDown(want.Up)}");
        }

        if (want.Mtu is int mtu && have.Mtu != mtu)
        {
            changes.Add($"MTU {have.Mtu}, want {mtu}");
        }

        var master = have.MasterIndex is int m and > 0 ? byIndex.GetValueOrDefault(m)?.Name ?? $"ifindex {m}" : null;
        if (!string.Equals(master, want.Master, StringComparison.Ordinal))
        {
            var wantMaster = want.Master is null ? "none" : want.Master + (observed.Links.ContainsKey(want.Master) ? string.Empty : " (missing)");
            changes.Add($"master {master ?? "none"}, want {wantMaster}");
        }

        return changes;
    }

    /// <summary>Why a link must be recreated, or null when it can be kept: it is of another kind; a veth whose peer
    /// is missing or is not its partner (the peer ifindex or the peer namespace's nsid do not match: the stale pair of
    /// an earlier run); a VXLAN or macvlan whose identity (VNI, port, remote, local, underlay; mode, parent) differs.</summary>
    private static string? Mismatch(DesiredLink want, Link have, LinkObservation observed)
    {
        if (!string.Equals(have.Kind, want.Kind.Kind, StringComparison.Ordinal))
        {
            return $"is a {have.Kind ?? "plain device"}, want a {want.Kind.Kind}";
        }

        var parentIndex = want.Parent is null ? null : observed.Links.GetValueOrDefault(want.Parent)?.Index;
        switch (want.Kind)
        {
            case Veth { PeerName: not null } veth:
                var peer = observed.Peers.GetValueOrDefault(want.Name);
                if (peer is null)
                {
                    // The end that should be in another namespace may sit right here (moved back, or never moved).
                    var local = veth.PeerNamespace is null || have.LinkNetNsId is not null ? null
                        : observed.Links.Values.FirstOrDefault(l => l.Index == have.LinkIndex);
                    return local is not null && string.Equals(local.Name, veth.PeerName, StringComparison.Ordinal)
                        ? $"its peer {veth.PeerName} is in the wrong namespace (here, not {veth.PeerNamespace})"
                        : $"its peer {veth.PeerName} is missing";
                }

                var expectedNsId = veth.PeerNamespace is null ? (int?)null : observed.PeerNsIds.GetValueOrDefault(want.Name, NsId.NotAssigned);
                if (have.LinkIndex != peer.Index || (expectedNsId is int id && (id < 0 || have.LinkNetNsId != id)))
                {
                    return $"its peer {veth.PeerName} is not its partner (peer ifindex {Show(have.LinkIndex)}, found {peer.Index})";
                }

                break;
            case Vxlan vx when have.KindData is Vxlan hv:
                var diffs = new List<string>();
                Compare(diffs, "VNI", hv.Id, vx.Id);
                Compare(diffs, "port", hv.Port, vx.Port ?? hv.Port);
                Compare(diffs, "remote", hv.Remote ?? hv.Group, vx.Remote ?? vx.Group ?? hv.Remote ?? hv.Group);
                Compare(diffs, "local", hv.Local, vx.Local ?? hv.Local);
                Compare(diffs, "underlay ifindex", hv.UnderlayIndex, parentIndex ?? hv.UnderlayIndex);
                if (diffs.Count > 0)
                {
                    return string.Join(", ", diffs);
                }

                break;
            case Macvlan mv when have.KindData is Macvlan hm:
                if (hm.Mode != mv.Mode)
                {
                    return $"mode {hm.Mode}, want {mv.Mode}";
                }

                if (parentIndex is int p && have.LinkIndex != p)
                {
                    return $"parent ifindex {Show(have.LinkIndex)}, want {want.Parent} ({p})";
                }

                break;
        }

        return null;
    }

    private static void Compare<T>(List<string> diffs, string what, T have, T want)
    {
        if (!EqualityComparer<T>.Default.Equals(have, want))
        {
            diffs.Add($"{what} {have?.ToString() ?? "none"}, want {want?.ToString() ?? "none"}");
        }
    }

    private static string Show(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    private bool IsOurs(Link link) => string.Equals(link.Alias, Mark, StringComparison.Ordinal);

    private async Task CreateAsync(DesiredLink want, CancellationToken cancellationToken)
    {
        var parent = want.Parent is null ? (int?)null : await RequireIndexAsync(want.Parent, "parent", want, cancellationToken).ConfigureAwait(false);
        var master = want.Master is null ? null : (await _handle.FindLinkAsync(want.Master, cancellationToken).ConfigureAwait(false))?.Index;
        var kind = want.Kind is Vxlan vx && parent is int underlay ? vx with { UnderlayIndex = underlay } : want.Kind;

        var spec = new LinkSpec(want.Name, kind)
        {
            Up = want.Up,
            Mtu = want.Mtu,
            Alias = Mark,
            ParentIndex = want.Kind is Macvlan ? parent : null,
            MasterIndex = master,
        };
        await _handle.CreateLinkAsync(spec, cancellationToken).ConfigureAwait(false);
        if (want.Kind is Veth { PeerName: { } peerName })
        {
            // The peer carries the mark too, so a stale peer left by a crash can be recognised as ours.
            // The kernel creates the peer down whatever the request says.
            await PeerHandleOf(want).SetLinkAsync(peerName, new LinkChange { Up = want.Up ? true : null, Alias = Mark }, cancellationToken).ConfigureAwait(false);
        }

        // The master may have been missing: the next pass sets it, and the report says "master none, want X".
    }

    /// <summary>Moves (and renames) a link from its origin: one request, so the kernel never shows it half-moved;
    /// a moved link arrives down, so its state, MTU and master are set at once afterwards.</summary>
    private async Task MoveAsync(LinkOperation op, CancellationToken cancellationToken)
    {
        var want = op.Link!;
        var origin = want.Origin!;
        var from = origin.Namespace is null ? _handle : PeerHandle(origin.Namespace);
        var change = new LinkChange
        {
            Name = string.Equals(origin.Name, want.Name, StringComparison.Ordinal) ? null : want.Name,
            Namespace = origin.Namespace is null ? null : _handle.Namespace ?? Current(),
            Alias = op.Adopt ? Mark : null,
        };
        await from.SetLinkAsync(op.Index, change, cancellationToken).ConfigureAwait(false);
        await _handle.SetLinkAsync(want.Name, await ChangeFor(want, adopt: false, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    private async Task<LinkChange> ChangeFor(DesiredLink want, bool adopt, CancellationToken cancellationToken) => new()
    {
        Up = want.Up,
        Mtu = want.Mtu,
        MasterIndex = want.Master is null ? 0 : await RequireIndexAsync(want.Master, "master", want, cancellationToken).ConfigureAwait(false),
        Alias = adopt ? Mark : null,
    };

    /// <summary>The ifindex of a link this one depends on; a missing one is a failure worth retrying (another source,
    /// or a later pass, may create it).</summary>
    private async Task<int> RequireIndexAsync(string name, string role, DesiredLink of, CancellationToken cancellationToken) =>
        (await _handle.FindLinkAsync(name, cancellationToken).ConfigureAwait(false))?.Index
        ?? throw new InvalidOperationException($"link {of.Name}: its {role} {name} does not exist (yet)");

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _handle.MonitorAsync(MonitorGroups.Links, HintOptions, cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <summary>The handle for a veth's peer: this source's own, or one opened (once) in the peer's namespace.</summary>
    private NetlinkHandle PeerHandleOf(DesiredLink link) =>
        link.Kind is Veth { PeerNamespace: { } ns } ? PeerHandle(ns) : _handle;

    /// <summary>The nsid under which this namespace knows <paramref name="ns"/>. An assigned id never changes while
    /// both namespaces live (and the desired link holds <paramref name="ns"/> open), so it is asked once; "not
    /// assigned" is asked again, as the kernel assigns one when a veth first crosses.</summary>
    private async Task<int> NsIdOfAsync(NetworkNamespace ns, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_nsIds.TryGetValue(ns, out var known))
            {
                return known;
            }
        }

        var id = await _handle.GetNsIdAsync(ns, cancellationToken).ConfigureAwait(false);
        if (id >= 0)
        {
            lock (_lock)
            {
                _nsIds[ns] = id;
            }
        }

        return id;
    }

    private NetlinkHandle PeerHandle(NetworkNamespace ns)
    {
        if (PeerHandles is { } given)
        {
            return given(ns);
        }

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

    private NetworkNamespace Current()
    {
        lock (_lock)
        {
            return _current ??= NetworkNamespace.OpenCurrent();
        }
    }
}
