using Aether.Netlink;
using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>Applying: creating (in batches), moving, changing and deleting links.</summary>
public sealed partial class LinkSource
{
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
                await IfStillThereAsync(PeerHandleOf(op.Link!).SetLinkAsync(op.Index, new LinkChange { Up = op.Link!.Up, Mtu = (op.Link.Kind as Veth)?.PeerMtu }, cancellationToken)).ConfigureAwait(false);
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
        while (start + run < plan.Count && plan[start + run] is LinkOperation { Kind: OperationKind.Create, Conflict: false, Link: { Master: null, Parent: null, Underlay: null } })
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

    private async Task CreateAsync(DesiredLink want, CancellationToken cancellationToken)
    {
        if (want.Underlay is not null)
        {
            await CreateFromUnderlayAsync(want, cancellationToken).ConfigureAwait(false);
            return;
        }

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

    /// <summary>Creates a VXLAN whose tunnel runs in its <see cref="DesiredLink.Underlay"/>: the request goes to the
    /// underlay namespace's handle (the parent is looked up there, and the kernel opens the UDP socket there) with
    /// this namespace as the target (<c>IFLA_NET_NS_FD</c>), so the device appears here under its name. The mark is
    /// set here right after (the netlink layer takes the link out again if that fails); the master, a bridge of this
    /// namespace, is set then too, on this namespace's handle.</summary>
    private async Task CreateFromUnderlayAsync(DesiredLink want, CancellationToken cancellationToken)
    {
        var underlay = PeerHandle(want.Underlay!);
        var parent = want.Parent is null ? (int?)null
            : (await underlay.FindLinkAsync(want.Parent, cancellationToken).ConfigureAwait(false))?.Index
              ?? throw new InvalidOperationException($"link {want.Name}: its parent {want.Parent} does not exist (yet) in its underlay namespace {want.Underlay}");
        var kind = want.Kind is Vxlan vx && parent is int index ? vx with { UnderlayIndex = index } : want.Kind;
        var spec = new LinkSpec(want.Name, kind)
        {
            Up = want.Up,
            Mtu = want.Mtu,
            Alias = Mark,
            Namespace = _handle.Namespace ?? Current(),
        };
        await underlay.CreateLinkAsync(spec, cancellationToken).ConfigureAwait(false);
        if (want.Master is not null && (await _handle.FindLinkAsync(want.Master, cancellationToken).ConfigureAwait(false))?.Index is int master)
        {
            await _handle.SetLinkAsync(want.Name, new LinkChange { MasterIndex = master }, cancellationToken).ConfigureAwait(false);
        }
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
}
