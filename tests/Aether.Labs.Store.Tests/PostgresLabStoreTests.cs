using System.Net;
using System.Net.Sockets;
using Aether.Labs.Store.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Store.Tests;

/// <summary>The contract on PostgreSQL: a private server for the class (started and stopped by the fixture), a
/// database per test, read back with <c>psql</c>.</summary>
public sealed class PostgresLabStoreTests(PostgresServer server, ITestOutputHelper output) : LabStoreContract(output), IClassFixture<PostgresServer>
{
    protected override async Task<StoreTarget> NewTargetAsync() => await PostgresTarget.CreateAsync(server.Server);

    [Fact]
    public async Task A_connection_string_names_the_same_database_as_the_url()
    {
        await using var target = await PostgresTarget.CreateAsync(server.Server);
        await using (var store = LabStore.Open(server.Server.ConnectionString(target.Name), target.StateDirectory))
        {
            Assert.Equal((LabStoreProvider.Postgres, target.Database), (store.Provider, store.Location));
            await store.MigrateAsync();
            await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        }

        Assert.Equal("aetlab", await target.ScalarAsync("SELECT name FROM labs"));
        Assert.False(File.Exists(Path.Combine(target.StateDirectory, "labs.db")));
    }

    [Fact]
    public async Task Eight_processes_worth_of_stores_migrating_one_empty_database_at_once_all_succeed()
    {
        // Agents, a controller and a CLI starting together on a new database: each migrates it.
        await using var target = await PostgresTarget.CreateAsync(server.Server);
        var stores = Enumerable.Range(0, 8).Select(_ => LabStore.Open(server.Server.ConnectionString(target.Name), target.StateDirectory)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.MigrateAsync()));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        Assert.Equal("0", await target.ScalarAsync("SELECT count(*) FROM labs"));
        Assert.Equal("0", await target.ScalarAsync($"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {LabStore.MigrationLockKey & 0xFFFFFFFF}"));
    }

    [Fact]
    public async Task A_refused_login_is_an_error_with_the_servers_message()
    {
        await using var target = await PostgresTarget.CreateAsync(server.Server);
        var url = $"postgres://aetnobody@127.0.0.1:{server.Server.Port}/{target.Name}";
        await using var store = LabStore.Open(url, target.StateDirectory);

        var error = await Assert.ThrowsAsync<LabStoreException>(() => store.MigrateAsync());

        Assert.Equal(url, error.Location);
        Assert.Equal("28000", error.SqlState);
        Assert.Contains("role \"aetnobody\" does not exist", error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"lab store {url}: migrate: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_an_error_saying_where_and_why()
    {
        await using var target = await PostgresTarget.CreateAsync(server.Server);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var store = LabStore.Open($"postgres://postgres:secret@127.0.0.1:{port}/aetdb?connect_timeout=5", target.StateDirectory);
        var error = await Assert.ThrowsAsync<LabStoreException>(() => store.GetLabAsync("aetlab"));

        Assert.Equal($"postgres://postgres@127.0.0.1:{port}/aetdb", error.Location);
        Assert.Contains($"127.0.0.1:{port}", error.Detail, StringComparison.Ordinal);
        Assert.Contains("Connection refused", error.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }
}
