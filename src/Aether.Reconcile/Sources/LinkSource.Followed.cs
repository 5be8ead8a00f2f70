using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>
/// Followed links: a source whose caller follows its namespace's link events (<see cref="LinkSource.PeerReadsEvery"/>
/// set, and <see cref="LinkSource.LinkChanged"/> called for each) keeps the links it read and, between full reads,
/// reads again only those the events named and those its own passes changed. Within a pass of a group, the address
/// and route sources get the same table (<see cref="PassCache.Provide"/>), also after this source changed links.
/// </summary>
public sealed partial class LinkSource
{
    private LinkTable? _table;
    private HashSet<int> _touchedIndexes = [];
    private HashSet<string> _touchedNames = new(StringComparer.Ordinal);
    private bool _allLinksStale = true;
    private long _lastFullLinks = long.MinValue;

    /// <summary>Says that the link at <paramref name="index"/> in this source's namespace changed, appeared or went
    /// (a link event from its monitor): the next pass reads it again.</summary>
    public void LinkChanged(int index)
    {
        lock (_lock)
        {
            _touchedIndexes.Add(index);
        }
    }

    /// <summary>Says that anything may have changed in this source's namespace (its monitor overran): the next pass
    /// reads every link.</summary>
    public void LinksChanged()
    {
        lock (_lock)
        {
            _allLinksStale = true;
        }
    }

    /// <summary>Notes the links a plan is about to change: read again when next asked for.</summary>
    private void TouchLinksOf(Plan plan)
    {
        lock (_lock)
        {
            foreach (var op in plan.OfType<LinkOperation>())
            {
                _touchedNames.Add(op.Link?.Name ?? op.Key.Name);
                if (op.Index > 0 && !op.PeerOnly && !op.Move)
                {
                    _touchedIndexes.Add(op.Index);
                }
            }
        }
    }

    /// <summary>The links of this source's namespace: a dump, or for a followed source between full reads, the table
    /// with what changed read again.</summary>
    private async Task<IReadOnlyList<Link>> ReadLinksAsync(CancellationToken cancellationToken)
    {
        if (PeerReadsEvery is not { } every)
        {
            return await PassCache.ListLinksAsync(_handle, cancellationToken).ConfigureAwait(false);
        }

        return PassCache.Provide(_handle, ReadFollowedAsync)
            ? await PassCache.ListLinksAsync(_handle, cancellationToken).ConfigureAwait(false)
            : await ReadFollowedAsync(cancellationToken).ConfigureAwait(false);

        async Task<IReadOnlyList<Link>> ReadFollowedAsync(CancellationToken ct)
        {
            HashSet<int> indexes;
            HashSet<string> names;
            bool full;
            lock (_lock)
            {
                var now = Environment.TickCount64;
                full = _table is null || _allLinksStale || now - _lastFullLinks >= (long)every.TotalMilliseconds;
                if (full)
                {
                    _allLinksStale = false;
                    _lastFullLinks = now;
                }

                (indexes, _touchedIndexes) = (_touchedIndexes, []);
                (names, _touchedNames) = (_touchedNames, new(StringComparer.Ordinal));
            }

            try
            {
                if (full)
                {
                    var table = new LinkTable(await _handle.ListLinksAsync(ct).ConfigureAwait(false));
                    _table = table;
                    return table.Links;
                }

                await _table!.RefreshAsync(_handle, indexes, names, ct).ConfigureAwait(false);
                return _table.Links;
            }
            catch
            {
                LinksChanged(); // what was to be read again is not known to be read: the next pass reads everything
                throw;
            }
        }
    }
}
