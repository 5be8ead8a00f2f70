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
                return [.. Calls.Where(c => c.StartsWith("add", StringComparison.Ordinal) || c.StartsWith("remove", StringComparison.Ordinal) || c.StartsWith("attach", StringComparison.Ordinal)
                    || c.StartsWith("detach", StringComparison.Ordinal) || c.StartsWith("peer", StringComparison.Ordinal))];
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

    /// <summary>What <see cref="LoopStatuses"/> reports, when set (one loop in sync otherwise).</summary>
    public IReadOnlyList<ReconcileStatus>? Loops { get; set; }

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

    private readonly Dictionary<(string Network, string Id), HubAttachmentInfo> _attachments = [];

    public Task<HubAttachResult> AttachAsync(string networkId, HubAttachRequest request, CancellationToken cancellationToken)
    {
        var normal = request.Validate();
        lock (_lock)
        {
            Calls.Add("attach " + networkId + " " + normal.AttachmentId);
            var network = _networks.GetValueOrDefault(networkId) ?? throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            var container = normal.Container ?? "pid:" + normal.ContainerPid;
            if (_attachments.TryGetValue((networkId, normal.AttachmentId!), out var existing))
            {
                return existing.Container == container ? Task.FromResult(new HubAttachResult(existing, false))
                    : throw new HubException(HubErrorKind.Conflict, $"attachment {normal.AttachmentId} exists with other settings") { NetworkId = networkId };
            }

            var info = new HubAttachmentInfo(normal.AttachmentId!, networkId, container, $"veth{network.Index}-{_attachments.Count + 1}", normal.Interface ?? "eth0", normal.Address ?? "10.99.0.2", network.Gateway.ToString(), true);
            _attachments[(networkId, normal.AttachmentId!)] = info;
            return Task.FromResult(new HubAttachResult(info, true));
        }
    }

    public Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add("detach " + networkId + " " + attachmentId);
            return _attachments.Remove((networkId, attachmentId))
                ? Task.CompletedTask
                : throw new HubException(HubErrorKind.NotFound, $"no attachment {attachmentId} in network {networkId}") { NetworkId = networkId, Missing = _networks.ContainsKey(networkId) ? HubMissing.Attachment : HubMissing.Network };
        }
    }

    public Task<HubPeerResult> SetPeerAsync(string networkId, HubPeerRequest peer, CancellationToken cancellationToken)
    {
        var spec = peer.Validate();
        lock (_lock)
        {
            Calls.Add("peer set " + networkId);
            var network = _networks.GetValueOrDefault(networkId) ?? throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            var created = !network.Peers.Any(p => p.PublicKey == spec.PublicKey);
            _networks[networkId] = network.WithPeers([.. network.Peers.Where(p => p.PublicKey != spec.PublicKey), spec]);
            return Task.FromResult(new HubPeerResult(spec.ToInfo(), created));
        }
    }

    public Task RemovePeerAsync(string networkId, string publicKey, CancellationToken cancellationToken)
    {
        var key = WireGuardHub.ParseKey(publicKey);
        lock (_lock)
        {
            Calls.Add("peer remove " + networkId);
            var network = _networks.GetValueOrDefault(networkId) ?? throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            if (!network.Peers.Any(p => p.PublicKey == key))
            {
                throw new HubException(HubErrorKind.NotFound, $"network {networkId} has no peer {key}") { NetworkId = networkId, Missing = HubMissing.Peer };
            }

            _networks[networkId] = network.WithPeers([.. network.Peers.Where(p => p.PublicKey != key)]);
            return Task.CompletedTask;
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
                Info(n), true, n.ListenPort, [.. n.Peers.Select(p => new HubPeerStatus(p.PublicKey.ToString(), p.Endpoint?.ToString(), [.. p.AllowedIps.Select(a => a.ToString())], null, 0, 0, p.PersistentKeepalive) { ConfiguredEndpoint = p.Endpoint?.ToString() })], null)
            {
                Nat = new HubNatStatus(n.NatPolicy, HubNatState.Ok, null),
            })]));
        }
    }

    public IReadOnlyList<ReconcileStatus> LoopStatuses()
    {
        lock (_lock)
        {
            Calls.Add("loops");
            return Loops ?? [new ReconcileStatus("hub/host", true, 3, 0, DateTimeOffset.UnixEpoch, null, null)];
        }
    }

    private HubNetworkInfo Info(HubNetworkSpec spec) => spec.ToInfo(nat: true) with
    {
        Attachments = [.. _attachments.Values.Where(a => a.NetworkId == spec.Id).OrderBy(a => a.AttachmentId, StringComparer.Ordinal)],
    };
}
