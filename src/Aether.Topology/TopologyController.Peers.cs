using Aether.Netlink.Monitoring;
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
            if (_sources.TryGetValue((Stage.Links, scope), out var own) && own.IsValueCreated && own.Value is LinkSource here)
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
                if (_sources.TryGetValue((Stage.Links, owner), out var lazy) && lazy.IsValueCreated && lazy.Value is LinkSource source)
                {
                    source.PeerChanged(link.Name);
                    WakeScope?.Invoke(owner);
                }
            }
        }

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
