using System.Globalization;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Cluster.Tests.Infrastructure;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>Agents of simulated hosts running in this process (each with a store of its own, as a process would
/// have), until stopped or disposed; <paramref name="configure"/> sets their timings.</summary>
internal sealed class InProcessAgents(ClusterDb db, ILabStore labs, SimulatedHosts hosts, Func<LabAgentOptions, LabAgentOptions> configure) : IAsyncDisposable
{
    private readonly Dictionary<int, (CancellationTokenSource Stop, Task Run, ClusterStore Store, LabAgent Agent)> _running = [];

    public LabAgent this[int i] => _running[i].Agent;

    public void Start(int i)
    {
        var store = db.OpenAnother();
        var agent = new LabAgent(store, labs, configure(new LabAgentOptions(HostId.Parse("h" + i.ToString(CultureInfo.InvariantCulture)), SimulatedHosts.Address(i))
        {
            HostNamespace = hosts.HostNamespace(i),
            StateDirectory = Path.Combine(hosts.StateDirectory, "h" + i.ToString(CultureInfo.InvariantCulture)),
            Heartbeat = TimeSpan.FromMilliseconds(500),
        }));
        var stop = new CancellationTokenSource();
        _running[i] = (stop, Task.Run(() => agent.RunAsync(stop.Token)), store, agent);
    }

    /// <summary>Fails with the agent's exception if one of them ended on its own.</summary>
    public void AssertRunning()
    {
        foreach (var (i, running) in _running)
        {
            Assert.False(running.Run.IsCompleted, $"agent h{i} ended: {running.Run.Exception?.GetBaseException().Message ?? running.Run.Status.ToString()}");
        }
    }

    public async Task RegisteredAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await db.Store.ListHostsAsync(TimeSpan.FromSeconds(10))).Count < _running.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, "agents not registered within 20 s");
            await Task.Delay(50);
        }
    }

    public async Task StopAsync(int i)
    {
        var (stop, run, store, _) = _running[i];
        _running.Remove(i);
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
        await store.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var i in _running.Keys.ToList())
        {
            await StopAsync(i);
        }
    }
}
