namespace Aether.Labs;

/// <summary>A lab as the kernel holds it now (<see cref="LabController.ObserveAsync"/>): every link's state as a
/// verification would store it, and what the kernel holds for each link end, read in one pass.</summary>
/// <param name="Links">Every link in lab order: <c>pending</c> and <c>creating</c> as stored (an operation is making
/// them), otherwise <c>up</c>, <c>down</c> or <c>error</c> with why, as read now.</param>
/// <param name="Interfaces">Each link end: its ifindex, kind, flags, carrier, MTU, MAC, mark and peer.</param>
/// <param name="Observed">When the kernel was read.</param>
public sealed record LabLiveState(IReadOnlyList<LinkState> Links, IReadOnlyList<InterfaceObservation> Interfaces, DateTimeOffset Observed);

/// <summary>The live reading of a lab, for watchers: verification without storing.</summary>
public sealed partial class LabController
{
    /// <summary>
    /// Reads every link from the kernel (and OVSDB on the ovs fabric) as <see cref="VerifyAsync"/> does, and every link
    /// end's kernel facts from the same reading, but stores nothing and repairs nothing: what a view shows between the
    /// runtime's own verifications. A link an operation is making (<c>pending</c>, <c>creating</c>) keeps its stored
    /// state.
    /// </summary>
    public async Task<LabLiveState> ObserveAsync(CancellationToken cancellationToken = default)
    {
        var stored = await StoredAsync(cancellationToken).ConfigureAwait(false);
        var down = DownOf(stored);
        var tags = TagsOf(stored);
        using var observed = await LabObservation.ReadAsync(Namespaces, cancellationToken).ConfigureAwait(false);
        var checks = await LinkVerifier.VerifyAsync(_lab, observed, down, cancellationToken, await OvsViewAsync(tags, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        var states = StatesOf(stored, checks, down, applyError: null, tags)
            .Select(s => stored.TryGetValue(s.Id, out var known) && known.Status is LinkStatus.Pending or LinkStatus.Creating ? known : s)
            .ToList();
        return new LabLiveState(states, Interfaces(observed), DateTimeOffset.UtcNow);
    }
}
