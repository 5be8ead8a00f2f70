using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>
/// Remembered peers: a source whose caller follows the peers' namespaces (<see cref="LinkSource.PeerReadsEvery"/>)
/// reads, on a pass between two full reads, only the peers something may have changed: those the caller marked
/// (<see cref="LinkSource.PeerChanged"/>), those of links this source changed, and those whose end here appeared, went
/// or is another link than last time. A host that holds one veth end per namespace then heals one deleted end by
/// reading one peer, not one peer in each of thousands of namespaces.
/// </summary>
public sealed partial class LinkSource
{
    private readonly Dictionary<string, (Link? Peer, int? HereIndex)> _peerCache = new(StringComparer.Ordinal);
    private HashSet<string> _stalePeers = new(StringComparer.Ordinal);
    private bool _allPeersStale = true;
    private long _lastFullRead = long.MinValue;

    /// <summary>How long the peers read on a full pass are trusted: within it, a pass reads again only the peers it
    /// must (see the type's remarks); after it, every peer is read. Null (the default): every pass reads every peer.
    /// A caller that sets it promises to call <see cref="PeerChanged"/> (or <see cref="PeersChanged"/>) for every
    /// change it learns of in a peer's namespace, overruns included.</summary>
    public TimeSpan? PeerReadsEvery { get; init; }

    /// <summary>Says that something changed about the peer of desired link <paramref name="link"/> (in the peer's
    /// namespace): the next pass reads it, and the link itself.</summary>
    public void PeerChanged(string link)
    {
        lock (_lock)
        {
            _stalePeers.Add(link);
            _touchedNames.Add(link); // the end here too: a peer moved or recreated changes what it says, unannounced
        }
    }

    /// <summary>Says that anything may have changed in the peers' namespaces (a monitor there overran): the next pass
    /// reads every peer.</summary>
    public void PeersChanged()
    {
        lock (_lock)
        {
            _allPeersStale = true;
        }
    }

    /// <inheritdoc/>
    public override void Prepare(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        lock (_lock)
        {
            foreach (var op in plan.OfType<LinkOperation>())
            {
                if (op.Link is { } link)
                {
                    _stalePeers.Add(link.Name);
                }
            }
        }

        TouchLinksOf(plan);

        base.Prepare(plan);
    }

    /// <summary>Which of <paramref name="remote"/> this pass reads, and what it takes as known for the others; and
    /// forgets the marks it acts on (marks made while it reads are kept for the next pass).</summary>
    private bool[] PeersToRead(List<(DesiredLink Link, Veth Veth)> remote, Dictionary<string, Link> here, (Link? Peer, int NsId)[] found)
    {
        var read = new bool[remote.Count];
        lock (_lock)
        {
            var now = Environment.TickCount64;
            var full = PeerReadsEvery is not { } every || _allPeersStale || now - _lastFullRead >= (long)every.TotalMilliseconds;
            if (full)
            {
                _allPeersStale = false;
                _lastFullRead = now;
            }

            var stale = _stalePeers;
            if (stale.Count > 0)
            {
                _stalePeers = new(StringComparer.Ordinal);
            }

            for (var i = 0; i < remote.Count; i++)
            {
                var name = remote[i].Link.Name;
                var index = here.TryGetValue(name, out var link) ? link.Index : (int?)null;
                if (!full && !stale.Contains(name) && _peerCache.TryGetValue(name, out var known) && known.HereIndex == index)
                {
                    found[i] = (known.Peer, NsId.NotAssigned);
                }
                else
                {
                    read[i] = true;
                }
            }
        }

        return read;
    }

    /// <summary>Remembers the peers this pass read, with the index of their end here.</summary>
    private void RememberPeers(List<(DesiredLink Link, Veth Veth)> remote, Dictionary<string, Link> here, bool[] read, (Link? Peer, int NsId)[] found)
    {
        if (PeerReadsEvery is null)
        {
            return;
        }

        lock (_lock)
        {
            for (var i = 0; i < remote.Count; i++)
            {
                if (read[i])
                {
                    var name = remote[i].Link.Name;
                    _peerCache[name] = (found[i].Peer, here.TryGetValue(name, out var link) ? link.Index : null);
                }
            }
        }
    }
}
