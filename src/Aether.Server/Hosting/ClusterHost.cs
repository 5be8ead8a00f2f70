using System.Globalization;
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Aether.Server;

/// <summary>
/// The controller of labs placed on hosts, on when the lab store is PostgreSQL: it migrates the cluster's tables,
/// takes part in the leader election (<see cref="LeaderElector"/>: one controller of a database leads, the others
/// try again every second and take over within about that once the leader's connection is gone), and, leading,
/// sweeps every <see cref="SweepInterval"/> the rows of labs that no longer exist (<see cref="ClusterStore.SweepAsync"/>).
/// Placed labs' deploys, destroys and detaches are carried out by the leader only; any controller serves reads.
/// </summary>
internal sealed partial class ClusterHost(ServerOptions options, LabHost labs, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    /// <summary>How often the leader sweeps.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long a host may stay silent before it is shown unreachable.</summary>
    public static readonly TimeSpan HostTimeout = TimeSpan.FromSeconds(10);

    private readonly ILogger _log = loggers.CreateLogger("Aether.Server.Cluster");
    private readonly CancellationTokenSource _stopping = new();
    private LeaderElector? _elector;
    private Task _loop = Task.CompletedTask;

    /// <summary>The cluster store, or null when the lab store is not PostgreSQL (no controller).</summary>
    public ClusterStore? Store { get; private set; }

    /// <summary>Placed labs' operations (null without a cluster).</summary>
    public ClusterLabs? Labs { get; private set; }

    /// <summary>This controller's name in the database (<c>application_name</c> of its leader-lock connection).</summary>
    public string Name { get; } = string.Create(CultureInfo.InvariantCulture, $"aether serve {Environment.MachineName} pid {Environment.ProcessId}");

    /// <summary>Whether this controller leads (as of its last check, at most a second old).</summary>
    public bool IsLeader => _elector?.IsLeader ?? false;

    /// <summary>When this controller last became leader or follower.</summary>
    public DateTimeOffset RoleSince { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Why the last election attempt failed (the database's message), or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>The last sweep's result, and when.</summary>
    public (DateTimeOffset At, SweepResult Result)? LastSweep { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (labs.Provider != LabStoreProvider.Postgres)
        {
            return;
        }

        var store = ClusterStore.Open(options.LabDatabase!);
        try
        {
            _ = await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Store = store;
        Labs = new ClusterLabs(store, labs.Store, HostTimeout);
        _elector = new LeaderElector(new NpgsqlConnectionStringBuilder(store.ConnectionString) { ApplicationName = Name }.ConnectionString);
        labs.Cluster = this;
        LogStarted(_log, store.Location, Name);
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_elector is { } elector)
        {
            await elector.DisposeAsync().ConfigureAwait(false); // the lock goes with its connection: a follower takes over at once
        }

        if (Store is { } store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>The leader as the database sees it (null: nobody holds the lock).</summary>
    public Task<LeaderInfo?> FindLeaderAsync(CancellationToken cancellationToken) =>
        Store is { } store ? store.FindLeaderAsync(cancellationToken: cancellationToken) : Task.FromResult<LeaderInfo?>(null);

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var elector = _elector!;
        var nextSweep = DateTimeOffset.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            var was = elector.IsLeader;
            try
            {
                var leads = was ? await elector.StillLeadingAsync(cancellationToken).ConfigureAwait(false) : await elector.TryLeadAsync(cancellationToken).ConfigureAwait(false);
                LastError = null;
                if (leads && DateTimeOffset.UtcNow >= nextSweep)
                {
                    var swept = await Store!.SweepAsync(HostTimeout, cancellationToken).ConfigureAwait(false);
                    LastSweep = (DateTimeOffset.UtcNow, swept);
                    nextSweep = DateTimeOffset.UtcNow + SweepInterval;
                    if (swept.Any)
                    {
                        LogSwept(_log, swept.Placements, swept.Vteps, swept.LinkEnds, swept.Vnis);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or ClusterException)
            {
                LastError = ex.Message;
                LogElectionFailed(_log, ex.Message);
            }

            if (elector.IsLeader != was)
            {
                RoleSince = DateTimeOffset.UtcNow;
                if (elector.IsLeader)
                {
                    nextSweep = DateTimeOffset.MinValue;
                    LogLeading(_log, Name);
                }
                else
                {
                    LogFollowing(_log, Name);
                }
            }

            try
            {
                await Task.Delay(LeaderElector.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 9201, Level = LogLevel.Information, Message = "cluster: controller {Name} on {Store}")]
    private static partial void LogStarted(ILogger logger, string store, string name);

    [LoggerMessage(EventId = 9202, Level = LogLevel.Information, Message = "cluster: {Name} leads")]
    private static partial void LogLeading(ILogger logger, string name);

    [LoggerMessage(EventId = 9203, Level = LogLevel.Warning, Message = "cluster: {Name} no longer leads")]
    private static partial void LogFollowing(ILogger logger, string name);

    [LoggerMessage(EventId = 9204, Level = LogLevel.Warning, Message = "cluster: the election failed: {Error}")]
    private static partial void LogElectionFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 9205, Level = LogLevel.Information, Message = "cluster: swept gone labs: {Placements} placements, {Vteps} VTEPs, {Ends} link ends, {Vnis} VNIs")]
    private static partial void LogSwept(ILogger logger, int placements, int vteps, int ends, int vnis);
}
