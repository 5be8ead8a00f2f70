using System.Runtime.InteropServices;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Labs.Supervision;

/// <summary>Which node a supervised process belongs to.</summary>
/// <param name="Lab">The lab's name.</param>
/// <param name="Node">The node's name in the lab.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct NodeProcessKey(string Lab, string Node)
{
    /// <summary><c>lab/node</c>.</summary>
    public override string ToString() => Lab + "/" + Node;
}

/// <summary>
/// The supervised processes of lab nodes, one per node (see <see cref="NodeProcess"/>): started into the node's
/// namespace, restarted with backoff, stopped with their lab, and all stopped on dispose.
/// </summary>
public sealed class ProcessSupervisor : IDisposable, IAsyncDisposable
{
    private readonly Dictionary<NodeProcessKey, NodeProcess> _processes = [];
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private bool _disposed;

    /// <summary>Creates a supervisor whose processes follow <paramref name="policy"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The policy is invalid.</exception>
    public ProcessSupervisor(SupervisionPolicy? policy = null, ILogger<ProcessSupervisor>? logger = null)
    {
        Policy = policy ?? SupervisionPolicy.Default;
        Policy.Validate();
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>How the processes are restarted and stopped.</summary>
    public SupervisionPolicy Policy { get; }

    /// <summary>Starts supervising <paramref name="spec"/> inside <paramref name="target"/> as the process of
    /// <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">That node already has a supervised process (stop it first), or
    /// the supervisor is disposed.</exception>
    public NodeProcess Start(NodeProcessKey key, NetworkNamespace target, NodeProcessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(spec);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_processes.ContainsKey(key))
            {
                throw new InvalidOperationException($"node {key} already has a supervised process");
            }

            var process = NodeProcess.Start(target, spec, Policy, _logger);
            _processes.Add(key, process);
            return process;
        }
    }

    /// <summary>Starts the process of a lab node (its <see cref="LabNode.Exec"/>) in the node's namespace, opened by
    /// name, with the working directory and log of <see cref="NodeProcessSpec.ForNode"/>.</summary>
    /// <returns>The process, or null when the node has none.</returns>
    /// <exception cref="NetlinkException">The node's namespace cannot be opened.</exception>
    /// <exception cref="InvalidOperationException">The node already has a supervised process.</exception>
    public NodeProcess? Start(LabSpec lab, LabNode node, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(node);
        if (node.Exec.Count == 0)
        {
            return null;
        }

        var spec = NodeProcessSpec.ForNode(lab, node, stateDirectory);
        using var target = NetworkNamespace.Open(node.Namespace);
        return Start(new NodeProcessKey(lab.Name, node.Name), target, spec);
    }

    /// <summary>The supervised process of <paramref name="key"/>, or null.</summary>
    public NodeProcess? Find(NodeProcessKey key)
    {
        lock (_lock)
        {
            return _processes.GetValueOrDefault(key);
        }
    }

    /// <summary>The status of every supervised process.</summary>
    public IReadOnlyDictionary<NodeProcessKey, NodeProcessStatus> Statuses()
    {
        lock (_lock)
        {
            return _processes.ToDictionary(p => p.Key, p => p.Value.Status);
        }
    }

    /// <summary>Stops the process of <paramref name="key"/> (SIGTERM, SIGKILL after the grace) and forgets it; nothing
    /// when there is none.</summary>
    public Task StopAsync(NodeProcessKey key) => StopAsync(k => k == key);

    /// <summary>Stops the processes of every node of <paramref name="lab"/>, together, and forgets them.</summary>
    public Task StopLabAsync(string lab) => StopAsync(k => string.Equals(k.Lab, lab, StringComparison.Ordinal));

    /// <summary>Stops every process, together.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        await StopAsync(static _ => true).ConfigureAwait(false);
    }

    /// <summary>Stops every process, together, waiting on this thread.</summary>
    public void Dispose()
    {
        NodeProcess[] all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _processes.Values];
            _processes.Clear();
        }

        Parallel.ForEach(all, static p => p.Dispose());
    }

    private async Task StopAsync(Func<NodeProcessKey, bool> which)
    {
        List<NodeProcess> stopping = [];
        lock (_lock)
        {
            foreach (var (key, process) in _processes.Where(p => which(p.Key)).ToList())
            {
                _processes.Remove(key);
                stopping.Add(process);
            }
        }

        await Task.WhenAll(stopping.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
