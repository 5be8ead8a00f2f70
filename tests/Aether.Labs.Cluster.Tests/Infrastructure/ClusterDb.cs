using System.Net;

namespace Aether.Labs.Cluster.Tests.Infrastructure;

/// <summary>A database of the test's own on the class's server, migrated, with a store on it; <c>psql</c> is the
/// oracle (<see cref="QueryAsync"/>). Labs and hosts a test makes carry the <c>aet</c> prefix.</summary>
public sealed class ClusterDb : IAsyncDisposable
{
    private ClusterDb(PrivatePostgres server, string name, ClusterStore store)
    {
        Server = server;
        Name = name;
        Store = store;
    }

    public PrivatePostgres Server { get; }

    /// <summary>The database's name (<c>aet_…</c>).</summary>
    public string Name { get; }

    public ClusterStore Store { get; }

    public string ConnectionString => Server.ConnectionString(Name);

    /// <summary>A fresh database with the cluster's schema.</summary>
    public static async Task<ClusterDb> CreateAsync(PrivatePostgres server, bool migrate = true)
    {
        var name = await server.CreateDatabaseAsync();
        var store = ClusterStore.Open(server.ConnectionString(name));
        if (migrate)
        {
            await store.MigrateAsync();
        }

        return new ClusterDb(server, name, store);
    }

    /// <summary>Another store on the same database (another process, say).</summary>
    public ClusterStore OpenAnother() => ClusterStore.Open(Server.Url(Name));

    public Task<IReadOnlyList<string?[]>> QueryAsync(string sql) => Server.QueryAsync(Name, sql);

    public async Task<string?> ScalarAsync(string sql) => (await QueryAsync(sql)).SingleOrDefault()?[0];

    /// <summary>Registers hosts <paramref name="ids"/> with underlays 10.200.0.1, .2, ….</summary>
    public async Task<HostId[]> RegisterAsync(params string[] ids)
    {
        var hosts = new HostId[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            hosts[i] = HostId.Parse(ids[i]);
            await Store.RegisterHostAsync(new HostRegistration(hosts[i], IPAddress.Parse($"10.200.0.{i + 1}"), 1000 + i, "test"));
        }

        return hosts;
    }

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}
