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

    /// <summary>The lower device by name, in the same namespace: required for a macvlan, the underlay of a VXLAN (in
    /// <see cref="Underlay"/> when that is given).</summary>
    public string? Parent { get; init; }

    /// <summary>VXLAN: the namespace whose network carries the tunnel (its UDP socket, its local address, the route
    /// to its remote); null: the source's own. The device is created from there with this source's namespace as its
    /// target, so it lives here while the kernel keeps its socket there; here it shows that namespace's nsid as
    /// <see cref="Link.LinkNetNsId"/>, and one whose tunnel is elsewhere (made here by hand, say) is recreated.</summary>
    public NetworkNamespace? Underlay { get; init; }

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
    public IReadOnlyDictionary<string, Link?> Origins { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, Link?>.Empty;

    /// <summary>For each desired VXLAN with an <see cref="DesiredLink.Underlay"/> that exists here, the nsid of the
    /// underlay namespace as seen from the source's namespace (negative: none assigned).</summary>
    public IReadOnlyDictionary<string, int> UnderlayNsIds { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, int>.Empty;

    /// <summary>For each desired VXLAN with an <see cref="DesiredLink.Underlay"/> and a <see cref="DesiredLink.Parent"/>
    /// that exists here, the parent's ifindex in the underlay namespace (null: no such link there).</summary>
    public IReadOnlyDictionary<string, int?> UnderlayParents { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, int?>.Empty;
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
public sealed partial class LinkSource : Source<LinkObservation, LinkOperation>, IDisposable
{
    private readonly NetlinkHandle _handle;
    private readonly DesiredLink[] _desired;
    private readonly ConflictPolicy _conflicts;
    // Made on first use, under _lock: most of a thousand namespaces' sources never open a peer's handle (the caller
    // gives them) nor ask an nsid (their links are all peers of veths declared elsewhere).
    private Dictionary<ulong, NetlinkHandle>? _peerHandles;
    private Dictionary<NetworkNamespace, int>? _nsIds;
    private readonly Lock _lock = new();

    /// <summary>The nsids of a source without veths into other namespaces: none to ask for.</summary>
    private static readonly IReadOnlyDictionary<NetworkNamespace, int> NoNsIds = System.Collections.ObjectModel.ReadOnlyDictionary<NetworkNamespace, int>.Empty;
    private static readonly IReadOnlyDictionary<string, Link?> NoPeers = System.Collections.ObjectModel.ReadOnlyDictionary<string, Link?>.Empty;
    private static readonly IReadOnlyDictionary<string, int> NoPeerNsIds = System.Collections.ObjectModel.ReadOnlyDictionary<string, int>.Empty;
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
        _handle = handle;
        _conflicts = conflicts;
        Scope = Scope.Of(handle.Namespace);
        Mark = "aether:" + owner;
        if (desired.Count == 0)
        {
            _desired = []; // a namespace that holds only the peers of veths declared elsewhere: nothing to check
            return;
        }

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

        // Masters and parents first, so that one pass can create a bridge and its ports, or a device and its macvlan.
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in desired)
        {
            if (link.Master is { } master)
            {
                referenced.Add(master);
            }

            if (link.Parent is { } parent)
            {
                referenced.Add(parent);
            }
        }

        _desired = referenced.Count == 0 ? [.. desired] : [.. desired.Where(l => referenced.Contains(l.Name)), .. desired.Where(l => !referenced.Contains(l.Name))];
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

    /// <summary>Namespaces the caller made moments ago (this namespace, or a veth peer's), in which nothing but
    /// <c>lo</c> can be yet: they are not read, the links there taken as none (an apply from empty then reads a thousand
    /// new namespaces no more than it must). The caller stops saying so once the namespaces may hold anything. Null:
    /// every namespace is read.</summary>
    public Func<NetworkNamespace, bool>? Fresh { get; init; }

    /// <summary>Links in this namespace that carry the mark but are another source's: the peers of veths managed
    /// from another namespace. They are never deleted here as "no longer desired".</summary>
    public IReadOnlySet<string> Claimed { get; init; } = System.Collections.Frozen.FrozenSet<string>.Empty;

    /// <inheritdoc/>
    public override string Name => "links in " + SourceNamespace.Describe(_handle);

    /// <inheritdoc/>
    public override async Task<LinkObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        SourceNamespace.ThrowIfGone(_handle.Namespace);
        var links = _handle.Namespace is { } own && Fresh?.Invoke(own) == true
            ? new Dictionary<string, Link>(StringComparer.Ordinal)
            : (await ReadLinksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Name, StringComparer.Ordinal);
        if (_desired.Length == 0)
        {
            return new LinkObservation(links, NoPeers, NoPeerNsIds); // no peers, origins or underlays to look up
        }

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
        // The nsid only matters to judge an end that exists here (is its peer in that namespace?): the ids of every
        // such peer's namespace are asked in one batch on this namespace's handle, not one round trip each.
        IReadOnlyDictionary<NetworkNamespace, int> nsIdsHere = remote.Count == 0 ? NoNsIds
            : await NsIdsOfAsync(remote.Where(r => links.ContainsKey(r.Link.Name)).Select(r => r.Veth.PeerNamespace!), cancellationToken).ConfigureAwait(false);
        // A caller that follows the peers' namespaces lets a pass read only the peers that may have changed.
        var found = new (Link? Peer, int NsId)[remote.Count];
        var read = PeersToRead(remote, links, found);
        for (var i = 0; i < remote.Count; i++)
        {
            if (!read[i])
            {
                found[i] = (found[i].Peer, nsIdsHere.GetValueOrDefault(remote[i].Veth.PeerNamespace!, NsId.NotAssigned));
            }
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        try
        {
            await ReadPeersAsync().ConfigureAwait(false);
        }
        catch
        {
            PeersChanged(); // the marks this pass took are not known to be read: the next pass reads every peer
            throw;
        }

        Task ReadPeersAsync() => Array.IndexOf(read, true) < 0 ? Task.CompletedTask : Parallel.ForEachAsync(Enumerable.Range(0, remote.Count).Where(i => read[i]), options, async (i, ct) =>
        {
            var (link, veth) = remote[i];
            if (Fresh?.Invoke(veth.PeerNamespace!) == true)
            {
                found[i] = (null, NsId.NotAssigned); // made moments ago: no peer in it yet
                return;
            }

            // Within a plan's pass (nothing followed), the far end comes from its namespace's dump, which that
            // namespace's own link source reads in the same pass: shared, not a request more per veth.
            var handle = PeerHandle(veth.PeerNamespace!);
            var peer = PassCache.TryGet(handle) is { } cached
                ? cached.FirstOrDefault(l => string.Equals(l.Name, veth.PeerName, StringComparison.Ordinal))
                : PassCache.Active && PeerReadsEvery is null
                    ? (await PassCache.ListLinksAsync(handle, ct).ConfigureAwait(false)).FirstOrDefault(l => string.Equals(l.Name, veth.PeerName, StringComparison.Ordinal))
                    : await handle.FindLinkAsync(veth.PeerName!, ct).ConfigureAwait(false);
            found[i] = (peer, nsIdsHere.GetValueOrDefault(veth.PeerNamespace!, NsId.NotAssigned));
        });
        RememberPeers(remote, links, read, found);
        for (var i = 0; i < remote.Count; i++)
        {
            peers[remote[i].Link.Name] = found[i].Peer;
            nsids[remote[i].Link.Name] = found[i].NsId;
        }

        // VXLANs whose tunnel runs in another namespace: that namespace's nsid here, and their parent there.
        Dictionary<string, int>? underlayNsIds = null;
        Dictionary<string, int?>? underlayParents = null;
        foreach (var link in _desired)
        {
            if (link.Underlay is null || !links.ContainsKey(link.Name))
            {
                continue;
            }

            underlayNsIds ??= new(StringComparer.Ordinal);
            underlayParents ??= new(StringComparer.Ordinal);
            underlayNsIds[link.Name] = await NsIdOfAsync(link.Underlay!, cancellationToken).ConfigureAwait(false);
            if (link.Parent is { } parent)
            {
                underlayParents[link.Name] = (await PeerHandle(link.Underlay!).FindLinkAsync(parent, cancellationToken).ConfigureAwait(false))?.Index;
            }
        }

        var observed = new LinkObservation(links, peers, nsids);
        return underlayNsIds is null && origins.Count == 0 ? observed
            : observed with { Origins = origins, UnderlayNsIds = underlayNsIds ?? observed.UnderlayNsIds, UnderlayParents = underlayParents ?? observed.UnderlayParents };
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>Closes the handles opened for peer and origin namespaces.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var handle in _peerHandles?.Values ?? Enumerable.Empty<NetlinkHandle>())
            {
                handle.Dispose();
            }

            _peerHandles?.Clear();
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
            var elsewhere = what switch
            {
                "origin" => link.Origin!.Namespace is not null,
                "parent" => link.Underlay is not null,
                _ => false,
            };
            if (string.Equals(name, link.Name, StringComparison.Ordinal) && !elsewhere)
            {
                throw new ArgumentException($"link '{link.Name}' cannot be its own {what}", nameof(link));
            }
        }

        if (link.Underlay is not null && link.Kind is not Vxlan)
        {
            throw new ArgumentException($"link '{link.Name}': a {link.Kind.Kind} has no underlay namespace (only a VXLAN does)", nameof(link));
        }

        if (link.Parent is not null && link.Kind is not (Macvlan or Vxlan))
        {
            throw new ArgumentException($"link '{link.Name}': a {link.Kind.Kind} has no parent", nameof(link));
        }
    }

    private bool IsOurs(Link link) => string.Equals(link.Alias, Mark, StringComparison.Ordinal);

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
            if (_nsIds?.TryGetValue(ns, out var known) == true)
            {
                return known;
            }
        }

        var id = await _handle.GetNsIdAsync(ns, cancellationToken).ConfigureAwait(false);
        if (id >= 0)
        {
            lock (_lock)
            {
                (_nsIds ??= new(ReferenceEqualityComparer.Instance))[ns] = id;
            }
        }

        return id;
    }

    /// <summary>The nsids under which this namespace knows each of <paramref name="namespaces"/>: the known ones from
    /// the cache, the others asked in one batch (<see cref="NetlinkHandle.GetNsIdsAsync"/>).</summary>
    private async Task<Dictionary<NetworkNamespace, int>> NsIdsOfAsync(IEnumerable<NetworkNamespace> namespaces, CancellationToken cancellationToken)
    {
        var result = new Dictionary<NetworkNamespace, int>(ReferenceEqualityComparer.Instance);
        var ask = new List<NetworkNamespace>();
        lock (_lock)
        {
            foreach (var ns in namespaces)
            {
                if (_nsIds?.TryGetValue(ns, out var known) == true)
                {
                    result[ns] = known;
                }
                else if (!result.ContainsKey(ns))
                {
                    result[ns] = NsId.NotAssigned;
                    ask.Add(ns);
                }
            }
        }

        var ids = await _handle.GetNsIdsAsync(ask, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            for (var i = 0; i < ask.Count; i++)
            {
                result[ask[i]] = ids[i];
                if (ids[i] >= 0)
                {
                    (_nsIds ??= new(ReferenceEqualityComparer.Instance))[ask[i]] = ids[i];
                }
            }
        }

        return result;
    }

    private NetlinkHandle PeerHandle(NetworkNamespace ns)
    {
        if (PeerHandles is { } given)
        {
            return given(ns);
        }

        lock (_lock)
        {
            _peerHandles ??= [];
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
