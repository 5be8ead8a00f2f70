using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Topology;

namespace Aether.Labs;

public sealed partial class LabController
{
    /// <summary>
    /// Deploys the lab: stores it (links new to the store are pending), marks every link not up as creating, applies
    /// the lab's topology, then verifies every link and stores it as up (or down, when set so) or as an error with the
    /// reason; a link that is not whole has what of it exists removed. Idempotent: a second deploy changes nothing.
    /// </summary>
    /// <param name="definition">The lab file's text, kept so that commands given only the lab's name can read it.</param>
    /// <param name="progress">Receives what the engine changes, as it changes it.</param>
    /// <param name="cancellationToken">Stops it.</param>
    public async Task<LabResult> DeployAsync(string definition, IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        using var activity = AetherDiagnostics.ActivitySource.StartActivity("aether.lab.deploy");
        activity?.SetTag("aether.lab.name", _lab.Name);
        var result = await DeployUntracedAsync(definition, progress, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } failed)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failed);
        }

        return result;
    }

    private async Task<LabResult> DeployUntracedAsync(string definition, IProgress<ChangeLine>? progress, CancellationToken cancellationToken)
    {
        if (IsOvs && await SwitchUnreachableAsync(cancellationToken).ConfigureAwait(false) is { } unreachable)
        {
            return new LabResult([], [], unreachable); // before anything is touched
        }

        // One write before the kernel is touched: the lab, its mappings, and every link not up (or down, as set) as
        // creating, so that a deploy cut short leaves a store that says what was under way.
        IReadOnlyDictionary<LinkId, int> tags = new Dictionary<LinkId, int>();
        var stored = (await _store.SaveForDeployAsync(_lab, definition, links =>
        {
            tags = TagsOf(links.ToDictionary(l => l.Id));
            return new DeployIntent(Mappings(tags), [.. links.Where(l => l.Status is not (LinkStatus.Up or LinkStatus.Down)).Select(l => l with { Status = LinkStatus.Creating })]);
        }, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Id);
        var down = DownOf(stored);
        var (checks, lines, error) = await ConvergeAsync(down, tags, progress, cancellationToken).ConfigureAwait(false);
        var states = StatesOf(stored, checks, down, error, tags);
        await _store.SetLinkStatesAsync(_lab.Name, states, cancellationToken).ConfigureAwait(false);
        return new LabResult(states, lines, error);
    }

    /// <summary>Reads every link from the kernel and stores what it found (up, down, or an error with the reason),
    /// repairing nothing. With <paramref name="deep"/>, a link that reads whole and is up must also carry a frame each
    /// way (<see cref="FrameProbe"/>), whose latency is returned.</summary>
    public async Task<LabResult> VerifyAsync(bool deep = false, CancellationToken cancellationToken = default)
    {
        var stored = await StoredAsync(cancellationToken).ConfigureAwait(false);
        var down = DownOf(stored);
        var tags = TagsOf(stored);
        using var observed = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false);
        var checks = await LinkVerifier.VerifyAsync(_lab, observed, down, cancellationToken, await OvsViewAsync(tags, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        var latencies = new Dictionary<LinkId, TimeSpan>();
        if (deep)
        {
            checks = await ProbeAsync(checks, observed, down, latencies, cancellationToken).ConfigureAwait(false);
        }

        var states = StatesOf(stored, checks, down, applyError: null, tags);
        await _store.SetLinkStatesAsync(_lab.Name, states, cancellationToken).ConfigureAwait(false);
        return new LabResult(states, [], null) { FrameLatencies = latencies };
    }

    /// <summary>Sends a frame across every whole, up link (several at once); a link a frame does not cross is broken.</summary>
    private async Task<IReadOnlyList<LinkCheck>> ProbeAsync(IReadOnlyList<LinkCheck> checks, LabObservation observed, HashSet<LinkId> down, Dictionary<LinkId, TimeSpan> latencies, CancellationToken cancellationToken)
    {
        var probed = checks.ToArray();
        FrameProbe.End EndOf(LabEndpoint e)
        {
            var link = observed.Find(_nodes[e.Node].Namespace, e.Linux)!;
            return new FrameProbe.End(observed.NamespaceOf(_nodes[e.Node].Namespace), link.Index, link.MacAddress!, e.ToString());
        }

        var found = new System.Collections.Concurrent.ConcurrentDictionary<LinkId, TimeSpan>();
        await Parallel.ForAsync(0, probed.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (!probed[i].Valid || down.Contains(probed[i].Id))
            {
                return;
            }

            var link = _lab.Links[i];
            var (latency, problem) = await FrameProbe.ProbeAsync(EndOf(link.A), EndOf(link.B), TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            if (problem is not null)
            {
                probed[i] = probed[i] with { Problem = problem };
            }
            else
            {
                found[probed[i].Id] = latency!.Value;
            }
        }).ConfigureAwait(false);
        foreach (var (id, latency) in found)
        {
            latencies[id] = latency;
        }

        return probed;
    }

    /// <summary>
    /// The reference's reconciliation: verifies every link; when any is broken, repairs what it can (the lab's
    /// topology applied again: re-created, moved back, renamed back, set up) and verifies again; stores every link's
    /// state and returns the counts (checked, valid at the first look, repaired, still in error).
    /// </summary>
    public async Task<LabResult> ReconcileAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        var stored = await StoredAsync(cancellationToken).ConfigureAwait(false);
        var down = DownOf(stored);
        var tags = TagsOf(stored);
        IReadOnlyList<LinkCheck> first;
        using (var observed = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false))
        {
            first = await LinkVerifier.VerifyAsync(_lab, observed, down, cancellationToken, await OvsViewAsync(tags, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        }

        var valid = first.Count(c => c.Valid);
        if (valid == first.Count)
        {
            var whole = StatesOf(stored, first, down, applyError: null, tags);
            await _store.SetLinkStatesAsync(_lab.Name, whole, cancellationToken).ConfigureAwait(false);
            return new LabResult(whole, [], null) { Counts = new ReconcileCounts(first.Count, valid, 0, 0) };
        }

        var (after, lines, error) = await ConvergeAsync(down, tags, progress, cancellationToken).ConfigureAwait(false);
        var states = StatesOf(stored, after, down, error, tags);
        await _store.SetLinkStatesAsync(_lab.Name, states, cancellationToken).ConfigureAwait(false);
        var repaired = first.Zip(after).Count(p => !p.First.Valid && p.Second.Valid);
        return new LabResult(states, lines, error) { Counts = new ReconcileCounts(first.Count, valid, repaired, after.Count(c => !c.Valid)) };
    }

    /// <summary>Sets a link administratively down (both ends kept down) or up again, and converges it.</summary>
    /// <returns>The link's state afterwards, or null when the lab has no such link.</returns>
    public async Task<LinkState?> SetAdminStateAsync(LinkId id, bool up, CancellationToken cancellationToken = default)
    {
        var stored = await StoredAsync(cancellationToken).ConfigureAwait(false);
        if (!stored.TryGetValue(id, out var state))
        {
            return null;
        }

        stored[id] = state with { Status = up ? LinkStatus.Creating : LinkStatus.Down };
        await _store.SetLinkStatesAsync(_lab.Name, [stored[id]], cancellationToken).ConfigureAwait(false);
        var down = DownOf(stored);
        var tags = TagsOf(stored);
        var (checks, _, error) = await ConvergeAsync(down, tags, progress: null, cancellationToken).ConfigureAwait(false);
        var states = StatesOf(stored, checks, down, error, tags);
        await _store.SetLinkStatesAsync(_lab.Name, states, cancellationToken).ConfigureAwait(false);
        return states.First(s => s.Id == id);
    }

    /// <summary>Removes everything the lab owns (its namespaces, with what is in them, when no other topology uses
    /// them) and forgets it in the store.</summary>
    public async Task<TopologyResult> DestroyAsync(IProgress<ChangeLine>? progress = null, CancellationToken cancellationToken = default)
    {
        var result = await Topology(null, null).DestroyAsync(progress, cancellationToken).ConfigureAwait(false);
        if (result.Error is null && IsOvs && await OvsPassAsync(desired: null, cancellationToken).ConfigureAwait(false) is { } ovsError)
        {
            result = result with { Error = "the lab's bridge: " + ovsError };
        }

        if (result.Error is null)
        {
            await _store.DeleteLabAsync(_lab.Name, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Applies the lab's topology and verifies every link. Links one of whose names is held by someone else's interface
    /// are left out of the apply (the engine would refuse the whole lab for them) and are errors; a link that is not
    /// whole afterwards has what of it exists and is ours removed, so nothing half-made stays.
    /// </summary>
    private async Task<(IReadOnlyList<LinkCheck> Checks, IReadOnlyList<ChangeLine> Lines, string? Error)> ConvergeAsync(IReadOnlySet<LinkId> down, IReadOnlyDictionary<LinkId, int> tags, IProgress<ChangeLine>? progress, CancellationToken cancellationToken)
    {
        Dictionary<LinkId, string> foreign;
        using (var before = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false))
        {
            foreign = ForeignHolders(before);
        }

        var left = foreign.Keys.ToHashSet();
        var applied = await Topology(left, down).ApplyAsync(progress, cancellationToken).ConfigureAwait(false);
        var ovsError = IsOvs ? await OvsPassAsync(OvsFabric.Desired(_lab, tags, left), cancellationToken).ConfigureAwait(false) : null;
        using var after = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false);
        var checks = (await LinkVerifier.VerifyAsync(_lab, after, down, cancellationToken, await OvsViewAsync(tags, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false))
            .Select(c => foreign.TryGetValue(c.Id, out var why) ? c with { Problem = why } : c)
            .ToList();
        var broken = checks.Where(c => !c.Valid).Select(c => c.Id).ToHashSet();
        foreach (var link in _lab.Links.Where(l => broken.Contains(l.Id)))
        {
            await RemoveOursAsync(link, after, cancellationToken).ConfigureAwait(false);
        }

        if (IsOvs && broken.Count > 0)
        {
            // Their ports go too: nothing of a link that is not whole stays.
            ovsError ??= await OvsPassAsync(OvsFabric.Desired(_lab, tags, left.Union(broken).ToHashSet()), cancellationToken).ConfigureAwait(false);
        }

        return (checks, applied.Lines, applied.Error ?? (ovsError is null ? null : "the lab's bridge: " + ovsError));
    }

    /// <summary>One pass of the lab's bridge source toward <paramref name="desired"/> (null: the lab's bridge and
    /// ports deleted); the failure's message, or null.</summary>
    private async Task<string?> OvsPassAsync(Aether.Reconcile.Sources.DesiredOvsBridge? desired, CancellationToken cancellationToken)
    {
        try
        {
            await using var source = new Aether.Reconcile.Sources.OvsBridgeSource(_options.Ovsdb, OvsFabric.OwnerOf(_lab.Name), desired);
            var pass = await source.RunPassAsync(cancellationToken).ConfigureAwait(false);
            return pass.Error?.Message;
        }
        catch (Exception ex) when (ex is Aether.Ovsdb.OvsdbException or IOException or InvalidOperationException)
        {
            return ex.Message;
        }
    }

    /// <summary>What verification reads of the switch, or null off the ovs fabric.</summary>
    private async Task<OvsView?> OvsViewAsync(IReadOnlyDictionary<LinkId, int> tags, CancellationToken cancellationToken)
    {
        if (!IsOvs)
        {
            return null;
        }

        try
        {
            return new OvsView(SwitchScope, tags, await OvsFabric.ReadAsync(_options.Ovsdb, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is Aether.Ovsdb.OvsdbException or IOException or InvalidOperationException)
        {
            return new OvsView(SwitchScope, tags, null, ex.Message);
        }
    }

    /// <summary>Why ovsdb-server cannot be reached (its client's message says how to start it), or null.</summary>
    private async Task<string?> SwitchUnreachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var client = await Aether.Ovsdb.OvsdbClient.ConnectAsync(_options.Ovsdb, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is Aether.Ovsdb.OvsdbException or IOException or InvalidOperationException)
        {
            return $"lab {_lab.Name} is on the ovs fabric: {ex.Message}";
        }
    }

    private IReadOnlyDictionary<LinkId, int> TagsOf(Dictionary<LinkId, LinkState> stored) =>
        IsOvs ? OvsFabric.Tags(_lab, stored) : new Dictionary<LinkId, int>();

    /// <summary>What the runtime keeps, from one read of the store and the kernel: the lab's topology without the links
    /// someone else's interface blocks and with the links set down kept down, and on the ovs fabric the bridge source
    /// with the ports of the links that topology keeps, at their stored tags (null off it).</summary>
    internal async Task<(TopologyController Topology, Aether.Reconcile.Sources.OvsBridgeSource? Bridge)> RuntimePartsAsync(CancellationToken cancellationToken)
    {
        var stored = await StoredAsync(cancellationToken).ConfigureAwait(false);
        HashSet<LinkId> blocked;
        using (var observed = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false))
        {
            blocked = [.. ForeignHolders(observed).Keys];
        }

        var bridge = IsOvs ? new Aether.Reconcile.Sources.OvsBridgeSource(_options.Ovsdb, OvsFabric.OwnerOf(_lab.Name), OvsFabric.Desired(_lab, TagsOf(stored), blocked)) : null;
        return (Topology(blocked, DownOf(stored)), bridge);
    }

    /// <summary>Links one of whose ends is held, under its Linux name, by an interface that is not this lab's.</summary>
    private Dictionary<LinkId, string> ForeignHolders(LabObservation observed)
    {
        var mark = LabTopology.MarkOf(_lab.Name);
        var foreign = new Dictionary<LinkId, string>();
        foreach (var link in _lab.Links)
        {
            foreach (var end in new[] { link.A, link.B })
            {
                var ns = _nodes[end.Node].Namespace;
                if (observed.Find(ns, end.Linux) is { } held && !string.Equals(held.Alias, mark, StringComparison.Ordinal))
                {
                    foreign.TryAdd(link.Id, $"{end} ({end.Linux}) is held in {ns} by an interface that is not this lab's ({held.Kind ?? "device"}, alias '{held.Alias}'): nothing of the link was made");
                }
            }
        }

        return foreign;
    }

    /// <summary>Deletes the ends of <paramref name="link"/> that exist and carry the lab's mark (a veth goes with its
    /// peer).</summary>
    private async Task RemoveOursAsync(LabLink link, LabObservation observed, CancellationToken cancellationToken)
    {
        var mark = LabTopology.MarkOf(_lab.Name);
        foreach (var end in new[] { link.A, link.B })
        {
            var ns = _nodes[end.Node].Namespace;
            if (observed.Find(ns, end.Linux) is { } held && string.Equals(held.Alias, mark, StringComparison.Ordinal))
            {
                try
                {
                    await observed.HandleOf(ns).DeleteLinkAsync(new LinkRef(held.Index), cancellationToken).ConfigureAwait(false);
                }
                catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
                {
                    // Its peer's deletion took it already.
                }
            }
        }
    }

    private async Task<Dictionary<LinkId, LinkState>> StoredAsync(CancellationToken cancellationToken) =>
        (await _store.GetLinksAsync(_lab.Name, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Id);

    private static HashSet<LinkId> DownOf(Dictionary<LinkId, LinkState> stored) =>
        [.. stored.Values.Where(s => s.Status == LinkStatus.Down).Select(s => s.Id)];

    /// <summary>The states to store after <paramref name="checks"/>: whole links up (or down, as set), the others
    /// errors with what was found (and the engine's failure, when there was one).</summary>
    private List<LinkState> StatesOf(Dictionary<LinkId, LinkState> stored, IReadOnlyList<LinkCheck> checks, HashSet<LinkId> down, string? applyError, IReadOnlyDictionary<LinkId, int> tags)
    {
        var now = DateTimeOffset.UtcNow;
        var states = new List<LinkState>(checks.Count);
        for (var i = 0; i < checks.Count; i++)
        {
            var link = _lab.Links[i];
            var check = checks[i];
            var state = stored.TryGetValue(check.Id, out var known) ? known : new LinkState(check.Id, link.A, link.B, LinkStatus.Pending) { Created = now };
            states.Add(state with
            {
                Status = !check.Valid ? LinkStatus.Error : down.Contains(check.Id) ? LinkStatus.Down : LinkStatus.Up,
                Error = check.Valid ? null : applyError is null ? check.Problem : $"{check.Problem} (apply: {applyError})",
                Mtu = link.Mtu,
                Vlan = tags.TryGetValue(check.Id, out var tag) ? tag : null,
                Checked = now,
            });
        }

        return states;
    }
}
