using Aether.Hub;
using Aether.Server.Store;

namespace Aether.Server.Health;

/// <summary>Ready when the hub's store answers a query (the SQLite file is there and readable), within 5 s.</summary>
internal sealed class StoreHealthCheck(IHubStore store) : TimedHealthCheck
{
    protected override string Subject => "the store";

    protected override async Task<string> AskAsync(CancellationToken cancellationToken)
    {
        var networks = store is SqliteHubStore sqlite
            ? await sqlite.CountAsync(cancellationToken).ConfigureAwait(false)
            : (await store.LoadAsync(cancellationToken).ConfigureAwait(false)).Count;
        return $"{networks} network(s) stored";
    }
}
