using System.Diagnostics;
using System.Globalization;
using Aether.Labs;
using Aether.Labs.Store;
#if !NATIVE_CLI
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;
#endif

namespace Aether.Cli;

/// <summary>
/// The lab commands for a lab whose nodes are placed on hosts (<c>host:</c>): the lab goes into the PostgreSQL
/// database the hosts' agents share (<c>ClusterLabs</c>, in the ReadyToRun build), and each agent applies its
/// host's part. On a SQLite store such a lab is refused before anything is written: no agent could see it.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class LabAcrossHosts
{
    /// <summary>How long deploy and destroy wait for the agents.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>How long verify --deep waits for the agents' frame probes (each frame: a third of it).</summary>
    private static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(3);

    /// <summary>Exit 2 with why when the store is SQLite; else null (go on).</summary>
    public static int? RefuseLocal(LabContext context, LabSpec lab)
    {
        var state = context.StateDirectory is { Length: > 0 } dir ? dir : new LabOptions().StateDirectory;
        var database = context.Database ?? (Environment.GetEnvironmentVariable("AETHER_DB") is { Length: > 0 } env ? env : null);
        if (!SqliteLabStore.TryFile(database, state, out _))
        {
            return null;
        }

        Output.Fail($"lab {lab.Name} places its nodes on hosts (host:): it needs the PostgreSQL database the hosts' agents share (--db postgres://USER@HOST/DB), not a SQLite file");
        return ExitCodes.InvalidInput;
    }

    public static async Task<int> DeployAsync(LabContext context, LabSpec lab, string definition, ILabStore store, CancellationToken ct)
    {
#if NATIVE_CLI
        _ = (context, lab, definition, store, ct);
        await Task.CompletedTask.ConfigureAwait(false);
        throw new UnreachableException("the native build hands PostgreSQL to the ReadyToRun build before this");
#else
        await using var cluster = await OpenAsync(context, ct).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        ClusterLabStatus status;
        try
        {
            status = await new ClusterLabs(cluster, store).DeployAsync(lab, definition, Wait, ct).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            Output.Fail(ex.Message);
            return ExitCodes.InvalidInput;
        }

        return Print(context, "deploy", status, clock.Elapsed);
#endif
    }

    public static async Task<int> DestroyAsync(LabContext context, string lab, ILabStore store, CancellationToken ct)
    {
#if NATIVE_CLI
        _ = (context, lab, store, ct);
        await Task.CompletedTask.ConfigureAwait(false);
        throw new UnreachableException("the native build hands PostgreSQL to the ReadyToRun build before this");
#else
        await using var cluster = await OpenAsync(context, ct).ConfigureAwait(false);
        if (!await new ClusterLabs(cluster, store).DestroyAsync(lab, Wait, ct).ConfigureAwait(false))
        {
            Output.Fail(string.Create(CultureInfo.InvariantCulture, $"lab {lab}: not every agent removed its part within {Wait.TotalSeconds:0} s (its placements are gone: they go when they next pass; destroy again to finish)"));
            return ExitCodes.Failure;
        }

        Output.Line($"destroyed {lab}");
        return ExitCodes.Ok;
#endif
    }

    /// <summary>The links as both ends' agents report them; with <paramref name="deep"/> (verify --deep), also a frame
    /// sent across every link: from here when both its ends' node namespaces are on this machine (<c>LocalFrames</c>),
    /// else by the agents of its ends' hosts (<c>CrossHostFrames</c>, waiting up to <see cref="ProbeWait"/>). A link is
    /// verified only when its ends are up and the frame crossed both ways; a link whose hosts' agents did not answer
    /// is reported with the host, and then the exit is 1 too (nothing is claimed that was not checked).</summary>
    public static async Task<int> StatusAsync(LabContext context, LabSpec lab, ILabStore store, bool deep, CancellationToken ct)
    {
#if NATIVE_CLI
        _ = (context, lab, store, deep, ct);
        await Task.CompletedTask.ConfigureAwait(false);
        throw new UnreachableException("the native build hands PostgreSQL to the ReadyToRun build before this");
#else
        await using var cluster = await OpenAsync(context, ct).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var status = await new ClusterLabs(cluster, store).StatusAsync(lab, ct).ConfigureAwait(false);
        Dictionary<string, LinkFrameCheck>? frames = null;
        if (deep)
        {
            // Both ends' namespaces here: the frames are sent from here, as on one host; any other link: by the agents.
            var here = lab.Links.Where(l => LocalFrames.BothEndsHere(lab, l)).ToList();
            var elsewhere = lab.Links.Except(here).Select(l => l.Id.Value).ToList();
            var local = await LocalFrames.ProbeAsync(lab, here, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            IReadOnlyList<LinkFrameCheck> remote = [];
            try
            {
                if (elsewhere.Count > 0)
                {
                    remote = await new CrossHostFrames(cluster, store).ProbeAsync(lab.Name, elsewhere, ProbeWait, ct).ConfigureAwait(false);
                }
            }
            catch (ArgumentException ex)
            {
                // The stored lab is not the one named (a link it lacks): nothing was written.
                Output.Fail(ex.Message);
                return ExitCodes.InvalidInput;
            }

            frames = local.Concat(remote).ToDictionary(f => f.LinkId, StringComparer.Ordinal);
        }

        return Print(context, "verify", status, clock.Elapsed, frames);
#endif
    }

    /// <summary><c>lab tunnels NAME</c>: the lab's VTEPs with their links' counts and ids, as
    /// <c>GET /v1/labs/{lab}/tunnels</c> has them (a lab on one host has none).</summary>
    public static async Task<int> TunnelsAsync(LabContext context, LabSpec lab, CancellationToken ct)
    {
        if (!lab.IsPlaced)
        {
            PrintTunnels(context, lab.Name, []);
            return ExitCodes.Ok;
        }
#if NATIVE_CLI
        _ = ct;
        await Task.CompletedTask.ConfigureAwait(false);
        throw new UnreachableException("the native build hands PostgreSQL to the ReadyToRun build before this");
#else
        await using var cluster = await OpenAsync(context, ct).ConfigureAwait(false);
        var tunnels = await cluster.ListTunnelsAsync(lab.Name, ct).ConfigureAwait(false);
        PrintTunnels(context, lab.Name, [.. tunnels.Select(t => new TunnelLine(t.Vtep.Host.Value, t.Vtep.Remote.Value, t.Vtep.PortName, t.Vtep.Vni, t.Vtep.LocalUnderlay.ToString(), t.Vtep.RemoteUnderlay.ToString(), t.Links))]);
        return ExitCodes.Ok;
#endif
    }

    /// <summary>One line a VTEP and a summary, or the JSON document (the fields of the HTTP API's).</summary>
    private static void PrintTunnels(LabContext context, string lab, IReadOnlyList<TunnelLine> tunnels)
    {
        if (context.Json)
        {
            // Written field by field (no reflection): the native build prints this too, for a lab on one host.
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("command", "tunnels");
                json.WriteString("lab", lab);
                json.WriteStartArray("tunnels");
                foreach (var t in tunnels)
                {
                    json.WriteStartObject();
                    json.WriteString("host", t.Host);
                    json.WriteString("remote", t.Remote);
                    json.WriteString("port", t.Port);
                    json.WriteNumber("vni", t.Vni);
                    json.WriteString("local", t.Local);
                    json.WriteString("remote_ip", t.RemoteIp);
                    json.WriteNumber("link_count", t.Links.Count);
                    json.WriteStartArray("links");
                    foreach (var link in t.Links)
                    {
                        json.WriteStringValue(link);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            Output.Line(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
            return;
        }

        foreach (var t in tunnels)
        {
            Output.StreamLine(string.Create(CultureInfo.InvariantCulture, $"{t.Host} -> {t.Remote}: {t.Port} vni {t.Vni} {t.Local} -> {t.RemoteIp}, {t.Links.Count} link{(t.Links.Count == 1 ? "" : "s")}: {string.Join(", ", t.Links)}"));
        }

        Output.Line(string.Create(CultureInfo.InvariantCulture, $"tunnels {lab}: {tunnels.Count} VTEP{(tunnels.Count == 1 ? "" : "s")}, {tunnels.Sum(t => t.Links.Count)} link attachment{(tunnels.Sum(t => t.Links.Count) == 1 ? "" : "s")}"));
    }

    /// <summary>A VTEP as <c>lab tunnels</c> prints it.</summary>
    private sealed record TunnelLine(string Host, string Remote, string Port, int Vni, string Local, string RemoteIp, IReadOnlyList<string> Links);

#if !NATIVE_CLI
    private static async Task<ClusterStore> OpenAsync(LabContext context, CancellationToken ct)
    {
        var database = context.Database ?? Environment.GetEnvironmentVariable("AETHER_DB");
        var cluster = ClusterStore.Open(database!);
        try
        {
            _ = await cluster.MigrateAsync(ct).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>One line a link (both ends as their agents reported them) and the hosts, or the JSON document; exit 0
    /// when every link is up (and, with <paramref name="frames"/>, a frame crossed each).</summary>
    private static int Print(LabContext context, string verb, ClusterLabStatus status, TimeSpan elapsed, Dictionary<string, LinkFrameCheck>? frames = null)
    {
        LinkFrameCheck? FrameOf(ClusterLinkStatus link) => frames?.GetValueOrDefault(link.LinkId);

        if (context.Json)
        {
            Output.Line(System.Text.Json.JsonSerializer.Serialize(new
            {
                command = verb,
                lab = status.Lab,
                hosts = status.Hosts.Select(h => new { id = h.Id.Value, underlay = h.Underlay.ToString(), state = h.Describe() }),
                links = status.Links.Select(l => new
                {
                    id = l.LinkId,
                    state = l.State.ToString().ToLowerInvariant(),
                    message = l.Message,
                    a = l.A is { } a ? new { host = a.Host.Value, state = a.State.ToString().ToLowerInvariant(), message = a.Message } : null,
                    b = l.B is { } b ? new { host = b.Host.Value, state = b.State.ToString().ToLowerInvariant(), message = b.Message } : null,
                    frame = FrameOf(l) is { } f ? new { probed = f.Probed, crossed = f.Crossed, latency_ms = f.Latency is { } t ? Math.Round(t.TotalMilliseconds, 3) : (double?)null, problem = f.Problem } : null,
                }),
                elapsed_ms = Math.Round(elapsed.TotalMilliseconds, 1),
            }));
        }
        else
        {
            foreach (var host in status.Hosts)
            {
                Output.StreamLine($"host {host.Id} ({host.Underlay}): {host.Describe()}");
            }

            foreach (var link in status.Links)
            {
                Output.StreamLine($"{link.LinkId}: {link.State.ToString().ToLowerInvariant()}{(link.Message is { } m ? " (" + m + ")" : "")}");
                if (FrameOf(link) is { } frame)
                {
                    Output.StreamLine(frame.Crossed
                        ? string.Create(CultureInfo.InvariantCulture, $"frame across {link.LinkId}: {frame.Latency!.Value.TotalMilliseconds:F3} ms")
                        : $"frame across {link.LinkId}: {frame.Problem}");
                }
            }

            var up = status.Links.Count(l => l.State == LinkEndState.Up);
            Output.Line(string.Create(CultureInfo.InvariantCulture, $"{verb} {status.Lab}: {up} of {status.Links.Count} links up across {status.Hosts.Count} hosts{(frames is null ? "" : $", a frame crossed {frames.Values.Count(f => f.Crossed)} of {frames.Count}")} in {elapsed.TotalSeconds:0.00} s"));
        }

        return status.AllUp && (frames is null || frames.Values.All(f => f.Crossed)) ? ExitCodes.Ok : ExitCodes.Failure;
    }
#endif
}
