using Aether.Labs;
using Aether.TestInfrastructure;

namespace Aether.Labs.Tests.Fabric;

/// <summary>The lab engine on the PostgreSQL store (a private server the test starts and stops): deploy, a broken
/// link found and repaired, the states and the interface mappings as <c>psql</c> reads them.</summary>
public sealed class PostgresStoreTests : LabTest
{
    private PrivatePostgres _server = null!;
    private string _database = null!;

    private protected override async Task<ILabStore> OpenStoreAsync()
    {
        _server = await PrivatePostgres.StartAsync();
        _database = await _server.CreateDatabaseAsync();
        return OperatingSystem.IsLinux() ? Aether.Labs.Store.LabStore.Open(_server.Url(_database), StateDirectory) : throw new PlatformNotSupportedException();
    }

    protected override async Task TearDownAsync()
    {
        await base.TearDownAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lab_on_postgresql_is_deployed_repaired_and_its_states_read_back_with_psql()
    {
        var lab = Lab(3, (1, "eth1", 2, "eth1"), (2, "eth2", 3, "eth1"));
        Assert.True((await Controller(lab).DeployAsync("definition")).AllUp);
        await Ip.RunAsync("-n", Ns(lab, "r2"), "link", "del", "eth2");

        Assert.Equal(new ReconcileCounts(2, 1, 1, 0), (await Controller(lab).ReconcileAsync()).Counts);

        var rows = await _server.QueryAsync(_database, $"SELECT s.link_key, s.actual_state FROM link_states s JOIN labs l ON l.id = s.lab_id WHERE l.name = '{lab.Name}' ORDER BY s.link_key");
        Assert.Equal([["r1:eth1-r2:eth1", "up"], ["r2:eth2-r3:eth1", "up"]], rows.Select(r => r.Select(c => c!).ToArray()));
        var mappings = await _server.QueryAsync(_database, "SELECT count(*) FROM interface_mappings");
        Assert.Equal("4", mappings[0][0]);
    }
}
