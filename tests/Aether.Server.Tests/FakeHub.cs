using Aether.Reconcile;
using Aether.Hub;

namespace Aether.Server.Tests;

/// <summary>A hub in memory that records every call, so a test can say which calls a request reached.</summary>
public sealed class FakeHub : IWireGuardHub, IAsyncDisposable
{
    private readonly Dictionary<string, HubNetworkSpec> _networks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Every call, in order: <c>add ID</c>, <c>remove ID</c>, <c>list</c>, <c>status</c>, <c>loops</c>.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>The calls that could change something.</summary>
    public IReadOnlyList<string> Mutations
    {
        get
        {
            lock (_lock)
            {
                return [.. Calls.Where(c => c.StartsWith("add", StringComparison.Ordinal) || c.StartsWith("remove", StringComparison.Ordinal))];
            }
        }
    }

    /// <summary>Whether the daemon disposed of it.</summary>
    public bool Disposed { get; private set; }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>When set, AddNetwork fails with this step (a kernel failure).</summary>
    public string? FailStep { get; set; }

    public Task<HubAddResult> AddNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken)
    {
        var spec = request.Validate();
        lock (_lock)
        {
            Calls.Add("add " + spec.Id);
            if (FailStep is { } step)
            {
                throw new HubException(HubErrorKind.Failed, $"{step}: EPERM (Operation not permitted)") { Step = step, NetworkId = spec.Id };
            }

            if (_networks.TryGetValue(spec.Id, out var existing))
            {
                return existing.SameAs(spec)
                    ? Task.FromResult(new HubAddResult(Info(existing), Created: false))
                    : throw new HubException(HubErrorKind.Conflict, $"network {spec.Id} exists with other settings") { NetworkId = spec.Id };
            }

            if (_networks.Values.FirstOrDefault(n => n.Index == spec.Index) is { } other)
            {
                throw new HubException(HubErrorKind.Conflict, $"index {spec.Index} is network {other.Id}'s") { NetworkId = spec.Id };
            }

            _networks.Add(spec.Id, spec);
            return Task.FromResult(new HubAddResult(Info(spec), Created: true));
        }
    }

    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add("remove " + networkId);
            return _networks.Remove(networkId)
                ? Task.CompletedTask
                : throw new HubException(HubErrorKind.NotFound, $"no network '{networkId}'") { NetworkId = networkId };
        }
    }

    public IReadOnlyList<HubNetworkInfo> ListNetworks()
    {
        lock (_lock)
        {
            Calls.Add("list");
            return [.. _networks.Values.OrderBy(n => n.Index).Select(Info)];
        }
    }

    public Task<HubStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add("status");
            return Task.FromResult(new HubStatus("userspace", [.. _networks.Values.OrderBy(n => n.Index).Select(n => new HubNetworkStatus(
                Info(n), true, n.ListenPort, [new HubPeerStatus(n.PeerPublicKey.ToString(), n.PeerEndpoint.ToString(), [n.NetworkCidr.ToString()], null, 0, 0, n.PersistentKeepalive)], null))]));
        }
    }

    public IReadOnlyList<ReconcileStatus> LoopStatuses()
    {
        lock (_lock)
        {
            Calls.Add("loops");
            return [new ReconcileStatus("hub/host", true, 3, 0, DateTimeOffset.UnixEpoch, null, null)];
        }
    }

    private static HubNetworkInfo Info(HubNetworkSpec spec) => spec.ToInfo(nat: true);
}
