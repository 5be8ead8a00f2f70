using System.Text.Json;
using Aether.Hub;
using Aether.Server.Docker;
using Aether.Server.Store;

namespace Aether.Docker.Tests;

/// <summary>The driver's logic on a fake hub and the real SQLite store: indexes, addresses, joins, what a restart
/// finds, and that a refused request leaves neither a hub network nor a row.</summary>
public sealed class NetworkDriverTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aetdrv-").FullName;
    private readonly FakeBackend _hub = new();
    private DriverStore _store = null!;
    private NetworkDriver _driver = null!;

    private string Db => Path.Combine(_dir, "aether.db");

    public async Task InitializeAsync()
    {
        SqliteHubStore.Open(Db).Dispose(); // the daemon's store makes the file first
        _store = DriverStore.Open(Db);
        _driver = await NetworkDriver.LoadAsync(_hub, _store, default, isReady: path => !path.Contains("later", StringComparison.Ordinal) || File.Exists(path));
    }

    public async Task DisposeAsync()
    {
        _driver.Dispose();
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Networks_take_the_lowest_free_index_and_survive_a_restart()
    {
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions("51901")), default);
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('b'), Messages.GoodOptions("51902"), "10.72.0.0/24", "10.72.0.1/24"), default);
        Assert.Equal(0, _hub.Networks[Messages.NetworkId('a')].Index);
        Assert.Equal(1, _hub.Networks[Messages.NetworkId('b')].Index);
        Assert.Null(_hub.Networks[Messages.NetworkId('a')].Container);

        await _driver.DeleteNetworkAsync(new EndpointMessage { NetworkId = Messages.NetworkId('a') }, default);
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('c'), Messages.GoodOptions("51903"), "10.73.0.0/24", "10.73.0.1/24"), default);
        Assert.Equal(0, _hub.Networks[Messages.NetworkId('c')].Index);

        // The same message again (dockerd retrying) changes nothing.
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('c'), Messages.GoodOptions("51903"), "10.73.0.0/24", "10.73.0.1/24"), default);
        Assert.Equal(1, _hub.Calls.Count(c => c == "create " + Messages.NetworkId('c')));

        await using var reopened = DriverStore.Open(Db);
        using var restarted = await NetworkDriver.LoadAsync(_hub, reopened, default);
        Assert.Equal([Messages.NetworkId('b'), Messages.NetworkId('c')], restarted.NetworkIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_refused_network_leaves_no_hub_network_and_no_row()
    {
        var bad = Messages.GoodOptions();
        bad["key"] = "not-a-key";
        var e = await Assert.ThrowsAsync<DriverException>(() => _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), bad), default));
        Assert.Equal(HubErrorKind.Invalid, e.Kind);
        Assert.Contains("-o key:", e.Message, StringComparison.Ordinal);

        _hub.FailNext = new HubException(HubErrorKind.Conflict, "listen port 51901 is network x's");
        var conflict = await Assert.ThrowsAsync<DriverException>(() => _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions()), default));
        Assert.Equal(HubErrorKind.Conflict, conflict.Kind);
        Assert.Contains("51901", conflict.Message, StringComparison.Ordinal);

        Assert.Empty(_hub.Networks);
        Assert.Empty((await _store.LoadAsync(default)).Networks);
    }

    [Fact]
    public async Task Null_ipam_endpoints_get_the_lowest_free_address_and_docker_ipam_ones_are_checked()
    {
        var options = Messages.GoodOptions();
        options["cidr"] = "10.72.0.0/29";
        options["gateway"] = "10.72.0.1";
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), options, "0.0.0.0/0", ""), default);
        var first = await _driver.CreateEndpointAsync(Endpoint('a', '1'), default);
        var second = await _driver.CreateEndpointAsync(Endpoint('a', '2'), default);
        Assert.Equal("10.72.0.2/29", first.Interface?.Address);
        Assert.Equal("10.72.0.3/29", second.Interface?.Address);
        await _driver.DeleteEndpointAsync(Endpoint('a', '1'), default);
        Assert.Equal("10.72.0.2/29", (await _driver.CreateEndpointAsync(Endpoint('a', '3'), default)).Interface?.Address);
        for (var c = '4'; c <= '6'; c++)
        {
            await _driver.CreateEndpointAsync(Endpoint('a', c), default);
        }

        var full = await Assert.ThrowsAsync<DriverException>(() => _driver.CreateEndpointAsync(Endpoint('a', '7'), default));
        Assert.Contains("no free address", full.Message, StringComparison.Ordinal);

        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('b'), Messages.GoodOptions("51902")), default);
        var given = await _driver.CreateEndpointAsync(Endpoint('b', '1', "10.71.0.5/24"), default);
        Assert.Null(given.Interface); // docker chose: the answer must not carry one
        Assert.Equal(HubErrorKind.Invalid, (await Assert.ThrowsAsync<DriverException>(() => _driver.CreateEndpointAsync(Endpoint('b', '2', "10.9.0.5/24"), default))).Kind);
        Assert.Equal(HubErrorKind.Conflict, (await Assert.ThrowsAsync<DriverException>(() => _driver.CreateEndpointAsync(Endpoint('b', '3', "10.71.0.1/24"), default))).Kind);
        Assert.Equal(HubErrorKind.NotFound, (await Assert.ThrowsAsync<DriverException>(() => _driver.CreateEndpointAsync(Endpoint('c', '1'), default))).Kind);
        var endpoints = (await _store.LoadAsync(default)).Endpoints;
        Assert.Equal(6, endpoints.Count);
    }

    [Fact]
    public async Task Join_attaches_the_sandbox_and_leave_and_delete_undo_it()
    {
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions()), default);
        await _driver.CreateEndpointAsync(Endpoint('a', '1', "10.71.0.7/24"), default);
        var relative = await Assert.ThrowsAsync<DriverException>(() => _driver.JoinAsync(Endpoint('a', '1') with { SandboxKey = "netns/x" }, default));
        Assert.Contains("SandboxKey", relative.Message, StringComparison.Ordinal);
        Assert.Empty(_hub.Attachments);

        var answer = await _driver.JoinAsync(Endpoint('a', '1') with { SandboxKey = "/run/docker/netns/abc" }, default);
        Assert.True(answer.DisableGatewayService);
        var json = JsonSerializer.Serialize(answer);
        Assert.DoesNotContain("InterfaceName", json, StringComparison.Ordinal);
        Assert.Equal(("/run/docker/netns/abc", "10.71.0.7/24", "eth0"), _hub.Attachments[(Messages.NetworkId('a'), Messages.NetworkId('1'))]);
        Assert.Equal("eth0", _driver.OperInfo(Endpoint('a', '1'))["interface"]);

        await _driver.LeaveAsync(Endpoint('a', '1'), default);
        Assert.Empty(_hub.Attachments);
        await _driver.DeleteEndpointAsync(Endpoint('a', '1'), default);
        await _driver.DeleteNetworkAsync(new EndpointMessage { NetworkId = Messages.NetworkId('a') }, default);
        var (networks, endpoints) = await _store.LoadAsync(default);
        Assert.Empty(networks);
        Assert.Empty(endpoints);
        Assert.Empty(_hub.Networks);
    }

    [Fact]
    public async Task A_join_before_its_sandbox_exists_attaches_when_it_appears_and_a_leave_cancels_it()
    {
        await _driver.CreateNetworkAsync(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions()), default);
        await _driver.CreateEndpointAsync(Endpoint('a', '1', "10.71.0.7/24"), default);
        await _driver.CreateEndpointAsync(Endpoint('a', '2', "10.71.0.8/24"), default);
        var later = Path.Combine(_dir, "later1");
        var answer = await _driver.JoinAsync(Endpoint('a', '1') with { SandboxKey = later }, default);
        Assert.True(answer.DisableGatewayService);
        await Task.Delay(100);
        Assert.Empty(_hub.Attachments); // the container does not exist yet

        await File.WriteAllTextAsync(later, "");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_hub.Attachments.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }

        Assert.Equal((later, "10.71.0.7/24", "eth0"), _hub.Attachments[(Messages.NetworkId('a'), Messages.NetworkId('1'))]);

        var never = Path.Combine(_dir, "later2");
        await _driver.JoinAsync(Endpoint('a', '2') with { SandboxKey = never }, default);
        await _driver.LeaveAsync(Endpoint('a', '2'), default);
        await File.WriteAllTextAsync(never, "");
        await Task.Delay(300);
        Assert.False(_hub.Attachments.ContainsKey((Messages.NetworkId('a'), Messages.NetworkId('2'))), "a join left before its sandbox appeared was attached");
        Assert.Null(_driver.LastDeferredFailure);
    }

    private static EndpointMessage Endpoint(char network, char endpoint, string? address = null) => new()
    {
        NetworkId = Messages.NetworkId(network),
        EndpointId = Messages.NetworkId(endpoint),
        Interface = new EndpointInterface { Address = address ?? "" },
    };
}
