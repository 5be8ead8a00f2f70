using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Nftables;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>The namespaces, handles and sources of one plan, apply or destroy; disposing closes them.</summary>
    private sealed partial class Session : IDisposable
    {
        private readonly TopologyController _owner;
        private readonly Dictionary<Scope, NetworkNamespace> _namespaces = [];
        private readonly Dictionary<NetworkNamespace, Scope> _scopes = new(ReferenceEqualityComparer.Instance);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Scope, Lazy<NetlinkHandle>> _handles = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Scope, Lazy<NftContext>> _nftables = new();
        private readonly SourceCells _sources;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Scope, HashSet<string>> _pendingPeers = new();
        private readonly bool _empty;
        private readonly AppliedRecordStore _store;

        /// <summary>Opens the topology's namespaces (creating the missing ones when <paramref name="createMissing"/>).</summary>
        /// <param name="owner">The controller.</param>
        /// <param name="store">Its record.</param>
        /// <param name="createMissing">Whether missing namespaces are created.</param>
        /// <param name="empty">Whether nothing is desired (a destroy).</param>
        /// <param name="skip">Namespaces not to open (a destroy's, about to be deleted).</param>
        public Session(TopologyController owner, AppliedRecordStore store, bool createMissing, bool empty = false, IReadOnlySet<string>? skip = null)
        {
            _owner = owner;
            _store = store;
            _empty = empty;
            _sources = new SourceCells(this, owner._scopeIndex);
            OpenNamespaces(createMissing, skip);
        }

        public List<string> Created { get; } = [];

        /// <summary>Links, scope by scope, on their way out with a namespace being deleted (destroy): their scope's
        /// link source leaves them to the kernel.</summary>
        public IReadOnlyDictionary<Scope, HashSet<string>> Departing { get; init; } = new Dictionary<Scope, HashSet<string>>();

        // The nsfs inodes of the namespaces this session created, until their first links stage has been planned:
        // nothing but lo is in them yet, so nothing is read there (see LinkSource.Fresh).
        private readonly HashSet<ulong> _fresh = [];
        private volatile bool _freshOver;

        /// <summary>Whether <paramref name="ns"/> is one this session made and has not planned links in yet.</summary>
        private bool IsFresh(NetworkNamespace ns) => !_freshOver && _fresh.Contains(ns.Inode);

        /// <summary>Ends <see cref="IsFresh"/>: the links stage has been planned, and applying it fills the namespaces.</summary>
        public void EndFresh() => _freshOver = true;

        /// <summary>Whether the namespaces this session made are taken to hold no address until
        /// <see cref="EndFreshAddresses"/> (an apply: its links stage puts links there, its addresses stage the first
        /// addresses); off by default.</summary>
        public bool FreshAddresses { get; init; }

        private volatile bool _freshAddressesOver;

        private bool IsFreshForAddresses(NetworkNamespace ns) => FreshAddresses && !_freshAddressesOver && _fresh.Contains(ns.Inode);

        /// <summary>Ends <see cref="FreshAddresses"/>: the addresses stage has been planned.</summary>
        public void EndFreshAddresses() => _freshAddressesOver = true;

        public bool Exists(Scope scope) => _namespaces.ContainsKey(scope);

        /// <summary>Whether an object is left out of its source because its peer's namespace does not exist yet (it
        /// was reported as a create, so it is not "in sync").</summary>
        public bool Planned(Stage stage, Scope scope, ObjectKey key) =>
            stage == Stage.Links && key.Kind == ObjectKind.Link && _pendingPeers.TryGetValue(scope, out var names) && names.Contains(key.Name);

        /// <summary>The source of a stage in a scope; null where there is none, and in a namespace the session does not
        /// have (one <c>run</c> awaits).</summary>
        public IReconcileSource? SourceFor(Stage stage, Scope scope) => Exists(scope) ? _sources.For(stage, scope).Value : null;

        public void Dispose()
        {
            foreach (var source in _sources.All.Where(l => l.IsValueCreated).Select(l => l.Value).OfType<IDisposable>())
            {
                source.Dispose();
            }

            DisposeBackends();
            DisposeSharedMonitor();
            // The kernel's part of closing a thousand sockets and namespace descriptors is most of the 11 ms a plan of
            // a thousand took to end: on every core, 8 ms.
            Parallel.ForEach(_handles.Values.Where(l => l.IsValueCreated), handle => handle.Value.Dispose());

            foreach (var context in _nftables.Values.Where(l => l.IsValueCreated))
            {
                context.Value.Dispose();
            }

            Parallel.ForEach(_namespaces.Values, ns => ns.Dispose());
        }

        /// <summary>The hints of links, addresses and routes (sysctls have none): the shared monitor's announcements of
        /// the namespace in <c>run</c>, a monitor of its own otherwise; and the nf_tables monitor of the nftables source
        /// where there is one.</summary>
        public IAsyncEnumerable<object> HintsAsync(Scope scope, CancellationToken cancellationToken) =>
            SourceFor(Stage.Nftables, scope)?.Subscribe(cancellationToken) is { } nftables
                ? SourceGroup.MergeAsync([RtnetlinkHintsAsync(scope, cancellationToken), nftables], cancellationToken)
                : RtnetlinkHintsAsync(scope, cancellationToken);

        private async IAsyncEnumerable<object> RtnetlinkHintsAsync(Scope scope, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var e in AnnouncementsAsync(scope, cancellationToken).ConfigureAwait(false))
            {
                if (FollowPeers is not null)
                {
                    Follow(scope, e);
                }

                yield return e;
            }
        }

        /// <summary>The session's handle in <paramref name="ns"/>, one of its namespaces.</summary>
        private NetlinkHandle HandleAt(NetworkNamespace ns) => HandleOf(_scopes[ns]);

        private void Add(Scope scope, NetworkNamespace ns)
        {
            _namespaces[scope] = ns;
            _scopes[ns] = scope;
            if (ns.Name is { } name)
            {
                PassCache.NotePresent(name); // opened by name or made a moment ago: the pass need not look it up
            }
        }

        /// <summary>The session's handle in <paramref name="scope"/>.</summary>
        public NetlinkHandle HandleFor(Scope scope) => HandleOf(scope);

        /// <summary>Opens the handles of every namespace the session has at once, before a pass that reads them all
        /// (a plan): opened one by one as each is first read, a thousand sockets were a thousand hand-offs to a
        /// namespace thread, each blocking a pool thread meanwhile. Not past the socket budget (it would close them
        /// again); a handle that cannot be opened here is opened (and fails) where it is used.</summary>
        public void OpenHandles()
        {
            var scopes = _namespaces.Keys.Where(s => !_handles.ContainsKey(s)).ToArray();
            if (scopes.Length < 2 || scopes.Length > Netlink.SocketBudget.Shared.Limit)
            {
                return;
            }

            var opened = NetlinkHandle.OpenManyBorrowing([.. scopes.Select(s => _namespaces[s])]);
            for (var i = 0; i < scopes.Length; i++)
            {
                if (opened[i].Handle is { } handle && !_handles.TryAdd(scopes[i], new Lazy<NetlinkHandle>(handle)))
                {
                    handle.Dispose();
                }
            }
        }

        private NetlinkHandle HandleOf(Scope scope) => _handles.TryGetValue(scope, out var known) ? known.Value
            : _handles.GetOrAdd(scope, static (key, session) => new Lazy<NetlinkHandle>(() => NetlinkHandle.OpenBorrowing(session._namespaces[key])), this).Value; // closed before the namespaces (Dispose)

        private IReconcileSource? Build(Stage stage, Scope scope)
        {
            var handle = HandleOf(scope);
            switch (stage)
            {
                case Stage.Links:
                    var desired = new List<DesiredLink>();
                    HashSet<string>? pending = null;
                    foreach (var link in _empty ? [] : _owner._linksByScope[scope].Where(l => l.Kind != TopologyLinkKind.WireGuard))
                    {
                        var peerScope = PeerScope(link);
                        var underlay = UnderlayScope(link);
                        if ((link.Kind == TopologyLinkKind.Veth && peerScope != scope && !Exists(peerScope)) || (underlay is { } u && !Exists(u)))
                        {
                            (pending ??= new(StringComparer.Ordinal)).Add(link.Name);
                            continue;
                        }

                        desired.Add(ToDesired(link, scope, peerScope));
                    }

                    if (pending is not null)
                    {
                        _pendingPeers[scope] = pending; // only where some are: a thousand namespaces mostly have none
                    }

                    var claimed = new HashSet<string>(StringComparer.Ordinal);
                    if (!_empty)
                    {
                        foreach (var link in _owner._peersByScope[scope])
                        {
                            claimed.Add(link.Peer!.Name);
                        }
                    }

                    claimed.UnionWith(pending ?? []);
                    claimed.UnionWith(Departing.GetValueOrDefault(scope) ?? []);
                    return new LinkSource(handle, _owner.Owner, desired)
                    {
                        PeerReadsEvery = FollowPeers,
                        Scope = scope,
                        PeerHandles = HandleAt,
                        Fresh = IsFresh,
                        Claimed = claimed,
                    };
                case Stage.Devices:
                    return BuildWireGuard(scope);
                case Stage.Addresses:
                    ProvideFreshLinks(scope, handle);
                    return new AddressSource(handle, RecordFor(scope, "addresses"), _empty ? [] : [.. _owner.AddressesIn(scope).Select(a => new DesiredAddress(a.Link, a.Address))]) { Scope = scope, Fresh = IsFreshForAddresses };
                // Routes, sysctls and NAT have a source only where some are declared or recorded (Needs): a thousand
                // namespaces without any cost a thousand sources that plan nothing on every pass otherwise.
                case Stage.Routes:
                    DesiredRoute[] routes = _empty ? [] : [.. _owner.RoutesIn(scope)];
                    return !Needs(scope, routes.Length, "routes") ? null
                        : new RouteSource(handle, routes, new RouteSourceOptions { Record = RecordFor(scope, "routes"), OwnsProtocol = false }) { Scope = scope };
                case Stage.Sysctls when !scope.IsHost:
                    DesiredSysctl[] sysctls = _empty ? [] : [.. _owner.SysctlsIn(scope)];
                    return !Needs(scope, sysctls.Length, "sysctls") ? null
                        : new SysctlSource(_namespaces[scope], RecordFor(scope, "sysctls"), sysctls, new SysctlSourceOptions { RestoreOnRelease = true }) { Scope = scope };
                case Stage.Nftables when !scope.IsHost:
                    // Only where NAT is wanted, or was applied (its table is to be removed): no libnftables otherwise.
                    var nat = _empty ? [] : _owner.NatIn(scope);
                    if (!Needs(scope, nat.Count, "nftables"))
                    {
                        return null;
                    }

                    NftChain[] chains = nat.Count == 0 ? [] : [NftChain.NatPostrouting([.. nat.Select(m => NftRule.Masquerade(m.Source, m.Out))])];
                    var context = _nftables.GetOrAdd(scope, s => new Lazy<NftContext>(() => NftContext.OpenAt(_namespaces[s]))).Value;
                    return new NftablesSource(context, _owner.Owner, chains, new NftablesSourceOptions { Record = RecordFor(scope, "nftables") }) { Scope = scope };
                default:
                    return null;
            }
        }

        private DesiredLink ToDesired(TopologyLink link, Scope scope, Scope peerScope)
        {
            LinkKindData kind = link.Kind switch
            {
                TopologyLinkKind.Veth => new Veth(link.Peer!.Name) { PeerNamespace = peerScope == scope ? null : _namespaces[peerScope], PeerMtu = link.Mtu },
                TopologyLinkKind.Vxlan when link.Remote is { IsIPv6Multicast: true } or { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } && IsMulticast(link.Remote) =>
                    new Vxlan(link.Vni!.Value) { Group = link.Remote, Local = link.Local, Port = link.Port },
                TopologyLinkKind.Vxlan => new Vxlan(link.Vni!.Value) { Remote = link.Remote, Local = link.Local, Port = link.Port },
                TopologyLinkKind.Macvlan => new Macvlan(link.Mode ?? MacvlanMode.Bridge),
                _ => new Bridge(),
            };
            return new DesiredLink(link.Name, kind)
            {
                Up = link.Up,
                Mtu = link.Mtu,
                Master = link.Master,
                Parent = link.Parent,
                Underlay = UnderlayScope(link) is { } underlay ? _namespaces[underlay] : null,
            };
        }

        private static bool IsMulticast(System.Net.IPAddress? address) =>
            address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } && (address.GetAddressBytes()[0] & 0xF0) == 0xE0;
    }
}
