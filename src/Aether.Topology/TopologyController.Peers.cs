using System.Runtime.CompilerServices;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    private sealed partial class Session
    {
        private Dictionary<Scope, ILookup<string, TopologyLink>>? _peersByName;

        /// <summary><c>run</c>: how long the link sources trust the peers they read (a full read at least this
        /// often), because the session tells them of every change in a peer's namespace; null (plan, apply,
        /// destroy): every pass reads every peer.</summary>
        public TimeSpan? FollowPeers { get; init; }

        /// <summary><c>run</c>: wakes the loop of a scope (a link there has its peer where something changed).</summary>
        public Action<Scope>? WakeScope { get; set; }

        /// <summary>A change seen in <paramref name="scope"/>: the scope's link source reads again the link it names.
        /// It may also concern the peer of a veth managed from another scope: that veth's source reads its peer again on its next pass, and its loop is woken, so a peer set down
        /// or deleted in its namespace is put right at once rather than at the next resync. A link event concerns the
        /// veths whose peer has the announced name; an overrun concerns every veth with its peer here.</summary>
        private void Follow(Scope scope, NetlinkEvent e)
        {
            // The scope's own link source reads again what the event names (or everything, after an overrun).
            if (_sources.Made(Stage.Links, scope) is { } own && own.IsValueCreated && own.Value is LinkSource here)
            {
                if (e is LinkEvent { Link.Index: var index })
                {
                    here.LinkChanged(index);
                }
                else if (e is OverrunEvent)
                {
                    here.LinksChanged();
                }
            }

            var byName = PeersByName(scope);
            IEnumerable<TopologyLink> concerned = e switch
            {
                LinkEvent { Link.Name: { } name } => byName[name],
                OverrunEvent => byName.SelectMany(g => g),
                _ => [],
            };
            foreach (var link in concerned)
            {
                var owner = TopologyController.ScopeOf(link.Namespace);
                if (_sources.Made(Stage.Links, owner) is { } cell && cell.IsValueCreated && cell.Value is LinkSource source)
                {
                    source.PeerChanged(link.Name);
                    WakeScope?.Invoke(owner);
                }
            }
        }

        /// <summary>An apply's addresses stage in a namespace this session made and put nothing in but the peers of veths
        /// declared in other scopes: its links are known without a dump of its own. They are its loopback and those
        /// peers, each with the ifindex its other end gives (<c>IFLA_LINK</c>) in that end's scope, whose links the
        /// stage reads once for all (a thousand new namespaces: one dump of the host, not a thousand dumps). A peer not
        /// found that way (its other end gone, or not a veth there), or a namespace with links of its own, is
        /// dumped as before.</summary>
        private void ProvideFreshLinks(Scope scope, NetlinkHandle handle)
        {
            if (handle.Namespace is not { } ns || !IsFreshForAddresses(ns) || _owner._linksByScope[scope].Any())
            {
                return;
            }

            var peers = _owner._peersByScope[scope].ToArray();
            PassCache.Provide(handle, async cancellationToken =>
            {
                var links = new List<Link>(peers.Length + 1) { new() { Index = NetlinkHandle.LoopbackIndex, Name = "lo" } };
                foreach (var link in peers)
                {
                    var owner = ScopeOf(link.Namespace);
                    var there = Exists(owner) ? ByName(await PassCache.ListLinksAsync(HandleOf(owner), cancellationToken).ConfigureAwait(false)) : null;
                    if (there?.GetValueOrDefault(link.Name) is not { LinkIndex: int index, LinkNetNsId: not null })
                    {
                        return await handle.ListLinksAsync(cancellationToken).ConfigureAwait(false);
                    }

                    links.Add(new Link { Index = index, Name = link.Peer!.Name });
                }

                return links;
            });
        }

        // A scope's links by name, made once per list read (a thousand namespaces look up their peers in one list).
        private static readonly ConditionalWeakTable<IReadOnlyList<Link>, Dictionary<string, Link>> LinksByName = [];

        private static Dictionary<string, Link> ByName(IReadOnlyList<Link> links) =>
            LinksByName.GetValue(links, static l => l.ToDictionary(x => x.Name, StringComparer.Ordinal));

        private ILookup<string, TopologyLink> PeersByName(Scope scope)
        {
            lock (_namespaces)
            {
                _peersByName ??= [];
                if (!_peersByName.TryGetValue(scope, out var lookup))
                {
                    lookup = _owner._peersByScope[scope].ToLookup(l => l.Peer!.Name, StringComparer.Ordinal);
                    _peersByName[scope] = lookup;
                }

                return lookup;
            }
        }
    }
}
