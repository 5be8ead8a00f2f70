namespace Aether.Labs.Cluster;

/// <summary>One end of a link: the source (<see cref="A"/>) or the target (<see cref="B"/>).</summary>
public enum LinkEnd
{
    /// <summary>The link's first end (stored <c>a</c>).</summary>
    A,

    /// <summary>The link's second end (stored <c>b</c>).</summary>
    B,
}

/// <summary>What an agent saw of a link end, or what a whole link is.</summary>
public enum LinkEndState
{
    /// <summary>Present and verified (stored <c>up</c>).</summary>
    Up,

    /// <summary>Present but not carrying, or not reported yet (stored <c>down</c>).</summary>
    Down,

    /// <summary>Could not be made or checked; the message says why (stored <c>error</c>).</summary>
    Error,
}

/// <summary>What an agent reports of one end of a link on its host.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="LinkId">The link.</param>
/// <param name="End">Which end.</param>
/// <param name="Host">The host that checked it (the reporter).</param>
/// <param name="State">What it saw.</param>
/// <param name="Message">Why, for <see cref="LinkEndState.Down"/> and <see cref="LinkEndState.Error"/>.</param>
public sealed record LinkEndReport(string Lab, string LinkId, LinkEnd End, HostId Host, LinkEndState State, string? Message = null);

/// <summary>One end as stored, with its host's liveness.</summary>
/// <param name="End">Which end.</param>
/// <param name="Host">The host that reported it.</param>
/// <param name="Reported">What the agent reported.</param>
/// <param name="State">What the end is taken to be: <see cref="LinkEndState.Error"/> when its host is unreachable,
/// else <paramref name="Reported"/>.</param>
/// <param name="Message">The agent's message, or <c>host h2 unreachable since …</c>.</param>
/// <param name="CheckedAt">When it was reported (the database's clock).</param>
public sealed record LinkEndStatus(LinkEnd End, HostId Host, LinkEndState Reported, LinkEndState State, string? Message, DateTimeOffset CheckedAt);

/// <summary>A link of a lab seen from both ends: up only when both ends are up on live hosts.</summary>
/// <param name="LinkId">The link.</param>
/// <param name="A">End A, or null when not reported.</param>
/// <param name="B">End B, or null when not reported.</param>
/// <param name="State">Up when both are up; error when either is; else down.</param>
/// <param name="Message">Why it is not up (the end's message, prefixed with the end), or null.</param>
public sealed record ClusterLinkStatus(string LinkId, LinkEndStatus? A, LinkEndStatus? B, LinkEndState State, string? Message);
