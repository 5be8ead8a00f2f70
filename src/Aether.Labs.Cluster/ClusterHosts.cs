using System.Globalization;
using System.Net;

namespace Aether.Labs.Cluster;

/// <summary>What an agent registers: who it is, where its tunnels end, and which process.</summary>
/// <param name="Id">The host.</param>
/// <param name="Underlay">The address its VXLAN tunnels use (a unicast address other hosts reach).</param>
/// <param name="AgentPid">The agent's process id, or null.</param>
/// <param name="Version">The agent's version (printable, at most 64 characters), or null.</param>
public sealed record HostRegistration(HostId Id, IPAddress Underlay, int? AgentPid = null, string? Version = null)
{
    /// <summary>The host's WireGuard public key, for the tunnels of <c>transport: wireguard</c> links (its private key
    /// never leaves the host); null keeps the one registered before.</summary>
    public Aether.WireGuard.WireGuardKey? WireGuardKey { get; init; }
}

/// <summary>A registered host as listed, with its liveness computed by the database's clock.</summary>
/// <param name="Id">The host.</param>
/// <param name="Underlay">Its underlay address.</param>
/// <param name="AgentPid">The agent's process id as last registered.</param>
/// <param name="Version">The agent's version as last registered.</param>
/// <param name="RegisteredAt">When it first registered.</param>
/// <param name="LastSeen">Its last heartbeat (or registration), the database's <c>now()</c> then.</param>
/// <param name="Alive">Whether <see cref="LastSeen"/> is within the timeout the list was asked with.</param>
/// <param name="Silence">How long ago <see cref="LastSeen"/> was, by the database's clock.</param>
public sealed record HostStatus(HostId Id, IPAddress Underlay, int? AgentPid, string? Version, DateTimeOffset RegisteredAt, DateTimeOffset LastSeen, bool Alive, TimeSpan Silence)
{
    /// <summary>The host's WireGuard public key as its agent registered it, or null.</summary>
    public Aether.WireGuard.WireGuardKey? WireGuardKey { get; init; }

    /// <summary><c>up</c>, or <c>unreachable since 2026-12-06T10:14:19Z</c>.</summary>
    public string Describe() => Alive ? "up" : "unreachable since " + LastSeen.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
