using Aether.Hub;
using Aether.Server.Docker;

namespace Aether.Docker.Tests;

/// <summary>A hub that records what the driver asked of it, for the protocol's logic without a kernel.</summary>
internal sealed class FakeBackend : IDriverBackend
{
    public Dictionary<string, HubNetworkRequest> Networks { get; } = new(StringComparer.Ordinal);

    public Dictionary<(string Network, string Attachment), (string Sandbox, string Address, string Interface)> Attachments { get; } = [];

    public List<string> Calls { get; } = [];

    public HubException? FailNext { get; set; }

    public IReadOnlySet<int> UsedIndexes() => Networks.Values.Select(n => n.Index!.Value).ToHashSet();

    public bool HasNetwork(string networkId) => Networks.ContainsKey(networkId);

    public Task CreateNetworkAsync(HubNetworkRequest request, CancellationToken cancellationToken)
    {
        Calls.Add("create " + request.NetworkId);
        ThrowIfFailing();
        Networks[request.NetworkId!] = request;
        return Task.CompletedTask;
    }

    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken)
    {
        Calls.Add("remove " + networkId);
        Networks.Remove(networkId);
        foreach (var key in Attachments.Keys.Where(k => k.Network == networkId).ToList())
        {
            Attachments.Remove(key);
        }

        return Task.CompletedTask;
    }

    public Task<string> AttachAsync(string networkId, string attachmentId, string sandbox, string address, CancellationToken cancellationToken)
    {
        Calls.Add($"attach {networkId} {attachmentId} {sandbox} {address}");
        ThrowIfFailing();
        var name = "eth" + Attachments.Values.Count(a => a.Sandbox == sandbox);
        Attachments[(networkId, attachmentId)] = (sandbox, address, name);
        return Task.FromResult(name);
    }

    public Task DetachAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        Calls.Add($"detach {networkId} {attachmentId}");
        Attachments.Remove((networkId, attachmentId));
        return Task.CompletedTask;
    }

    private void ThrowIfFailing()
    {
        if (FailNext is { } e)
        {
            FailNext = null;
            throw e;
        }
    }
}
