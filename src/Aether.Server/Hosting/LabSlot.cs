using Aether.Labs;
using Aether.Server.Api;

namespace Aether.Server;

/// <summary>
/// One lab name in the daemon: the gate that lets one operation at a time change it, the lab its runtime and
/// processes run for, and what keeps it (<see cref="LabRuntimeInfo"/>). A slot outlives its lab (a lab deleted and
/// deployed again gets the same gate back), so two requests for one name always queue at one gate.
/// </summary>
internal sealed class LabSlot(string name, TimeProvider time) : IDisposable
{
    private readonly Lock _lock = new();
    private LabRuntimeInfo _runtime = new(LabHost.Stopped, null, null, time.GetUtcNow(), null);

    /// <summary>The lab's name.</summary>
    public string Name { get; } = name;

    /// <summary>Held by the operation changing the lab (deploy, delete, a link's state, a reconciliation, a hot
    /// (dis)connect, a mapping rewrite, the start after the daemon's own start).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The lab the runtime and processes run for (under <see cref="Gate"/>).</summary>
    public LabController? Controller { get; set; }

    /// <summary>The runtime's cancellation and task, while one runs (under <see cref="Gate"/>).</summary>
    public (CancellationTokenSource Stop, Task Task)? Run { get; set; }

    /// <summary>Why a node's process could not be started, by node.</summary>
    public Dictionary<string, string> ProcessErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>What keeps the lab, as of now.</summary>
    public LabRuntimeInfo Runtime
    {
        get
        {
            lock (_lock)
            {
                return _runtime;
            }
        }
    }

    /// <summary>Enters <paramref name="state"/> (the last report is kept while the runtime keeps running).</summary>
    public void Set(string state, string? detail, int? runnerPid = null)
    {
        lock (_lock)
        {
            var keep = state is LabHost.Running or LabHost.Failed ? _runtime.LastReport : null;
            _runtime = new LabRuntimeInfo(state, detail, runnerPid, time.GetUtcNow(), keep);
        }
    }

    /// <summary>Records a report of the runtime.</summary>
    public void Report(LabRuntimeReport report)
    {
        var links = report.Result.Links;
        var info = new LabRuntimeReportInfo(
            report.Trigger,
            time.GetUtcNow(),
            links.Count(l => l.Status == LinkStatus.Up),
            links.Count(l => l.Status == LinkStatus.Down),
            links.Count(l => l.Status is not (LinkStatus.Up or LinkStatus.Down)),
            report.Result.Counts);
        lock (_lock)
        {
            _runtime = _runtime with { LastReport = info };
        }
    }

    public void Dispose() => Gate.Dispose();
}
