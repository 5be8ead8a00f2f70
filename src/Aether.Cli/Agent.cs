using System.Net;
using Aether.Labs;
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Store;
using Aether.Topology;
using Microsoft.Extensions.Logging;

namespace Aether.Cli;

/// <summary><c>aether agent</c> (ReadyToRun and JIT builds only: EF Core and Npgsql).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Agent
{
    public static async Task<int> RunAsync(string? database, HostId host, IPAddress underlay, string? hostNamespace, Aether.Ovsdb.OvsdbEndpoint? ovsdb, string? stateDirectory, TimeSpan resync)
    {
        if (database is not { Length: > 0 } || SqliteLabStore.TryFile(database, Path.GetTempPath(), out _))
        {
            Output.Fail("agent: --db names the PostgreSQL database the controller and the agents share (postgres://USER@HOST/DB)");
            return ExitCodes.InvalidInput;
        }

        if (hostNamespace is not null && !File.Exists(Path.Combine("/run/netns", hostNamespace)))
        {
            Output.Fail($"agent: --namespace {hostNamespace}: no such named namespace");
            return ExitCodes.InvalidInput;
        }

        var state = stateDirectory ?? (Environment.GetEnvironmentVariable("AETHER_STATE_DIR") is { Length: > 0 } env ? env : new ControllerOptions().StateDirectory);
        using var signals = StopSignals.Listen();
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        try
        {
            await using var cluster = ClusterStore.Open(database);
            await using var labs = LabStore.Open(database, state);
            await MigrateAsync(cluster, labs, signals.Token).ConfigureAwait(false);
            var agent = new LabAgent(cluster, labs, new LabAgentOptions(host, underlay) { HostNamespace = hostNamespace, Ovsdb = ovsdb, StateDirectory = state, Resync = resync }, loggers.CreateLogger("aether.agent"));
            try
            {
                _ = agent.HostPublicKey(); // made on the first start; a key file others can read is refused here
            }
            catch (InvalidOperationException ex)
            {
                Output.Fail("agent: " + ex.Message);
                return ExitCodes.InvalidInput;
            }

            Output.Line($"agent {host} ({underlay}) on {cluster.Location}");
            Output.Flush();
            await agent.RunAsync(signals.Token).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (signals.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is ClusterException or ArgumentException or LabStoreException or Npgsql.NpgsqlException)
        {
            Output.Fail("agent: " + ex.Message);
            return ExitCodes.Failure;
        }
    }

    /// <summary>Brings both schemas to their last migration. Agents of several hosts often start together on a new
    /// database (and the database may be restarting): a migration that fails is tried again, every second for 30
    /// seconds, before the agent gives up; the next try finds what another agent already applied.</summary>
    private static async Task MigrateAsync(ClusterStore cluster, LabStore labs, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                _ = await cluster.MigrateAsync(ct).ConfigureAwait(false);
                await labs.MigrateAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is ClusterException or LabStoreException or Npgsql.NpgsqlException && DateTime.UtcNow < deadline)
            {
                Output.Fail("agent: migrating the database failed, trying again in 1 s: " + ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }
}
