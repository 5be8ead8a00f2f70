using System.Collections.Concurrent;
using System.Diagnostics;
using Aether.Labs;
using Aether.Labs.Store;
using Aether.Labs.Supervision;
using Aether.Server.Api;
using Aether.Topology;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>
/// The daemon's labs: the lab store (opened and migrated at start), and per deployed lab its
/// <see cref="LabRuntime"/> (repairs from the kernel's hints, the periodic reconciliation) and its nodes' processes
/// (one <see cref="ProcessSupervisor"/> for all labs). Every stored lab is brought up when the daemon starts (in the
/// background: deployed again, which changes nothing when it is whole, then its processes and runtime started) and
/// everything is stopped when it stops. A lab that an <c>aether lab run</c> keeps (its pid in
/// <c>STATE/labs/NAME/run.pid</c>) gets no second runtime; a request that changes it stops that runner and the daemon
/// takes the lab over. Operations on one lab take turns (<see cref="LabSlot.Gate"/>), and the lab's runtime is stopped
/// while one changes it and started again on the lab as it is afterwards.
/// </summary>
internal sealed partial class LabHost(ServerOptions options, ILoggerFactory loggers, TimeProvider time) : IHostedService, IAsyncDisposable
{
    /// <summary>The daemon is bringing the lab up.</summary>
    public const string Starting = "starting";

    /// <summary>The daemon's runtime keeps the lab.</summary>
    public const string Running = "running";

    /// <summary>An <c>aether lab run</c> keeps the lab.</summary>
    public const string CliRunner = "cli-runner";

    /// <summary>The runtime stopped on an error (started again after a backoff), or the lab could not be brought up.</summary>
    public const string Failed = "failed";

    /// <summary>The agents of the hosts its nodes are placed on keep the lab.</summary>
    public const string Agents = "agents";

    /// <summary>Nothing keeps the lab.</summary>
    public const string Stopped = "stopped";

    /// <summary>The daemon runs no lab runtimes (<see cref="ServerOptions.LabRuntimes"/>).</summary>
    public const string Off = "off";

    private static readonly TimeSpan RunnerStopWait = TimeSpan.FromSeconds(30);

    private readonly ILogger _log = loggers.CreateLogger("Aether.Server.Labs");
    private readonly ConcurrentDictionary<string, LabSlot> _slots = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ILabStore? _store;
    private ProcessSupervisor? _supervisor;
    private Task _resuming = Task.CompletedTask;

    /// <summary>How lab files are read.</summary>
    public InterfaceProfiles Profiles { get; } = options.LabProfiles ?? InterfaceProfiles.Default;

    /// <summary>The labs' state directory.</summary>
    public string StateDirectory { get; } = Path.GetFullPath(options.LabStateDirectory ?? Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath))!);

    /// <summary>The store's database (after start).</summary>
    public LabStoreProvider Provider { get; private set; }

    /// <summary>The controller of placed labs (set by it when it starts: the store is PostgreSQL), or null.</summary>
    public ClusterHost? Cluster { get; set; }

    /// <summary>Raised with a lab's name when an operation on it ended (deploy, delete, a link's state, reconcile,
    /// connect…) or its runtime reported: what a view of the lab (<see cref="Ui.LabWatch"/>) reads again on, beside
    /// the kernel's events. Handlers run on the caller's thread and must not block.</summary>
    public event EventHandler<LabChangedEventArgs>? Changed;

    /// <summary>The store (after start).</summary>
    public ILabStore Store => _store ?? throw new InvalidOperationException("the lab host has not started");

    private ProcessSupervisor Supervisor => _supervisor ?? throw new InvalidOperationException("the lab host has not started");

    /// <summary>Cancelled when the daemon stops: what changes a lab runs on it, not on the request's token, so a client
    /// that goes away does not leave a lab half-changed.</summary>
    private CancellationToken Stopping => _stopping.Token;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        LabStore migrated;
        try
        {
            migrated = LabStore.Open(options.LabDatabase, StateDirectory, (kind, name) => Profiles.TryToLinux(kind, name, out var linux, out _) ? linux : null);
        }
        catch (ArgumentException e)
        {
            throw new ServerOptionsException("--lab-db: " + e.Message, e);
        }

        ILabStore store = migrated;
        try
        {
            await migrated.MigrateAsync(cancellationToken).ConfigureAwait(false);
            if (migrated.Provider == LabStoreProvider.Sqlite)
            {
                // EF Core migrated the file; day to day it is read and written in plain SQL, as the CLI does: a
                // verification pass of 150 links writes its states in about 1 ms instead of about 15, and a deploy
                // from the daemon no longer waits on EF Core's change tracking (see docs/store.md).
                store = SqliteLabStore.Open(migrated.Location);
                await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
                await migrated.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            if (!ReferenceEquals(store, migrated))
            {
                await migrated.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        _store = store;
        Provider = migrated.Provider;
        _supervisor = new ProcessSupervisor(logger: loggers.CreateLogger<ProcessSupervisor>());
        var labs = await store.ListLabsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var lab in labs)
        {
            Slot(lab.Name).Set(Starting, "the daemon is bringing it up");
        }

        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogStarted(_log, migrated.Location, labs.Count, elapsedMs);

        // Brought up one after the other in the background: the API answers meanwhile (a request for a lab waits at
        // its gate until that lab is up).
        _resuming = Task.Run(() => ResumeAllAsync(labs), CancellationToken.None);
    }

    /// <summary>Stops every runtime, then every node process, then closes the store. Runs once the server no longer
    /// takes requests (hosted services stop in reverse order).</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _resuming.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_slots.Values.Select(StopRuntimeAsync)).ConfigureAwait(false);
        if (_supervisor is { } supervisor)
        {
            await supervisor.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is { } store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }

        _stopping.Dispose();
    }

    /// <summary>The slot of <paramref name="name"/>, made on first use and kept.</summary>
    private LabSlot Slot(string name) => _slots.GetOrAdd(name, n => new LabSlot(n, time));

    /// <summary>What keeps <paramref name="name"/> now: a CLI runner seen as gone is said so.</summary>
    public LabRuntimeInfo RuntimeOf(string name)
    {
        var info = Slot(name).Runtime;
        if (info is { State: CliRunner, RunnerPid: { } pid } && LabRunnerFile.RunningPid(LabDirectory(name), name) != pid)
        {
            return info with { State = Stopped, Detail = $"the CLI runner (pid {pid}) has exited; the next change through the API, or the daemon's next start, starts the daemon's runtime" };
        }

        return info;
    }

    /// <summary>The labs whose runtime has failed, with what it said (for the readiness check).</summary>
    public IReadOnlyList<(string Lab, string? Detail)> FailedRuntimes() =>
        [.. _slots.Values.Select(s => (s.Name, s.Runtime)).Where(s => string.Equals(s.Runtime.State, Failed, StringComparison.Ordinal)).Select(s => (s.Name, s.Runtime.Detail)).OrderBy(s => s.Name, StringComparer.Ordinal)];

    /// <summary>The supervised process of a node, if the daemon runs one.</summary>
    public NodeProcessStatus? ProcessOf(string lab, string node) => _supervisor?.Find(new NodeProcessKey(lab, node))?.Status;

    /// <summary>Why a node's process could not be started, if it could not.</summary>
    public string? ProcessErrorOf(string lab, string node)
    {
        var slot = Slot(lab);
        lock (slot.ProcessErrors)
        {
            return slot.ProcessErrors.GetValueOrDefault(node);
        }
    }

    private string LabDirectory(string name) => Path.Combine(StateDirectory, "labs", name);

    private LabController Controller(LabSpec lab) => new(lab, Store, new LabOptions { StateDirectory = StateDirectory });

    /// <summary>Runs <paramref name="body"/> alone on the lab (the lab's other operations wait); a failure other than a
    /// refusal becomes a <see cref="LabRequestException"/> naming <paramref name="step"/> (<c>store</c> for the
    /// database's) with the underlying message.</summary>
    private async Task<T> WithGateAsync<T>(string name, string step, Func<LabSlot, Task<T>> body, CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            throw LabRequestException.Stopping();
        }

        var slot = Slot(name);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Stopping);
        await slot.Gate.WaitAsync(both.Token).ConfigureAwait(false);
        try
        {
            return await body(slot).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (LabRequestException or OperationCanceledException))
        {
            LogFailed(_log, name, step, ex.Message);
            throw LabRequestException.Failed(name, ex is LabStoreException ? "store" : step, ex.Message, ex);
        }
        finally
        {
            slot.Gate.Release();
            Changed?.Invoke(this, new LabChangedEventArgs(name));
        }
    }

    private async Task ResumeAllAsync(IReadOnlyList<StoredLab> labs)
    {
        foreach (var stored in labs)
        {
            try
            {
                await WithGateAsync(stored.Name, "bring up", slot => ResumeAsync(slot, deploy: true), Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Slot(stored.Name).Set(Failed, "could not be brought up: " + ex.Message);
                LogResumeFailed(_log, stored.Name, ex.Message);
            }
        }
    }

    /// <summary>Brings the stored lab up again as the store has it (under the gate): left to its CLI runner when one
    /// keeps it; otherwise deployed again when <paramref name="deploy"/> (the daemon's start: its namespaces may be
    /// gone), then its processes and runtime started. False when the store has no such lab.</summary>
    private async Task<bool> ResumeAsync(LabSlot slot, bool deploy)
    {
        if (await Store.GetLabAsync(slot.Name, Stopping).ConfigureAwait(false) is not { } stored)
        {
            slot.Controller = null;
            slot.Set(Stopped, "not deployed");
            return false;
        }

        var loaded = LabLoader.Parse(stored.Definition, stored.SourcePath ?? slot.Name, Profiles);
        if (loaded.Lab is null)
        {
            slot.Set(Failed, "its stored definition no longer reads: " + string.Join("; ", loaded.Errors));
            return true;
        }

        if (loaded.Lab.IsPlaced)
        {
            slot.Controller = null;
            slot.Set(Agents, "placed on hosts: their agents keep it");
            return true;
        }

        var controller = Controller(loaded.Lab with { SourcePath = stored.SourcePath });
        if (options.LabRuntimes && LabRunnerFile.RunningPid(controller.LabDirectory, slot.Name) is { } pid)
        {
            slot.Controller = controller;
            slot.Set(CliRunner, $"kept by 'aether lab run {slot.Name}' (pid {pid}); the daemon runs no runtime beside it", pid);
            return true;
        }

        if (deploy)
        {
            var result = await controller.DeployAsync(stored.Definition, progress: null, Stopping).ConfigureAwait(false);
            var whole = result.Links.Count(l => l.Status is LinkStatus.Up or LinkStatus.Down);
            LogResumed(_log, slot.Name, whole, result.Links.Count, result.Error ?? "none");
        }

        StartKeeping(slot, controller);
        return true;
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "labs: store {Store} migrated, {Labs} lab(s) to bring up, in {ElapsedMs} ms")]
    private static partial void LogStarted(ILogger logger, string store, int labs, long elapsedMs);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "lab {Lab}: brought up, {Whole}/{Links} links whole (engine error: {Error})")]
    private static partial void LogResumed(ILogger logger, string lab, int whole, int links, string error);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Error, Message = "lab {Lab}: could not be brought up: {Error}")]
    private static partial void LogResumeFailed(ILogger logger, string lab, string error);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "lab {Lab}: node {Node}'s process could not be started: {Error}")]
    private static partial void LogProcessFailed(ILogger logger, string lab, string node, string error);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Information, Message = "lab {Lab} [{Trigger}]: {Whole}/{Links} links whole, {Repaired} repaired")]
    private static partial void LogReport(ILogger logger, string lab, string trigger, int whole, int links, int repaired);

    [LoggerMessage(EventId = 9106, Level = LogLevel.Information, Message = "lab {Lab} [runtime]: {Line}")]
    private static partial void LogChange(ILogger logger, string lab, ChangeLine line);

    [LoggerMessage(EventId = 9107, Level = LogLevel.Error, Message = "lab {Lab}: the runtime stopped: {Error}; started again in {BackoffSeconds} s")]
    private static partial void LogRuntimeFailed(ILogger logger, string lab, string error, double backoffSeconds);

    [LoggerMessage(EventId = 9109, Level = LogLevel.Error, Message = "lab {Lab}: {Step} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string lab, string step, string error);

    [LoggerMessage(EventId = 9108, Level = LogLevel.Information, Message = "lab {Lab}: stopping its CLI runner (pid {Pid}) to take the lab over")]
    private static partial void LogTakingOver(ILogger logger, string lab, int pid);

    [LoggerMessage(EventId = 9110, Level = LogLevel.Warning, Message = "lab {Lab}: cannot hold the keeper's lock, so CLI commands are not kept off the lab: {Error}")]
    private static partial void LogKeeperFailed(ILogger logger, string lab, string error);
}

/// <summary>The lab that <see cref="LabHost.Changed"/> is raised for.</summary>
/// <param name="lab">The lab's name.</param>
internal sealed class LabChangedEventArgs(string lab) : EventArgs
{
    /// <summary>The lab's name.</summary>
    public string Lab { get; } = lab;
}
