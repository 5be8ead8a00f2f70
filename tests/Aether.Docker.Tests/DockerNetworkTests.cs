using Aether.TestInfrastructure;
using Aether.Docker.Tests.Infrastructure;
using Aether.Server.Docker;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Docker.Tests;

/// <summary>
/// The reference's steps for real, with the private dockerd and <c>aether serve --docker-plugin</c> whose hub is bound
/// to a test namespace (a simulated host): a container on one network has eth0; a second network connected gives it
/// eth1; a second container on network 2 is reachable from the first through eth1 and not through network 1;
/// containers on two hosts ping over the tunnel; removing the containers and networks leaves nothing behind.
/// Oracles: <c>nsenter --net=SANDBOX ip -j addr</c>, <c>docker exec C ip -o addr</c>, <c>wg show</c>, <c>ip -j link</c>.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class DockerNetworkTests(DockerFixture fixture) : SandboxTest
{
    private readonly string _dirA = Directory.CreateTempSubdirectory("aetdna-").FullName;
    private readonly string _dirB = Directory.CreateTempSubdirectory("aetdnb-").FullName;
    private readonly List<string> _containers = [];
    private readonly List<string> _networks = [];
    private string _hostA = null!;
    private string _hostB = null!;

    private PrivateDocker Docker => fixture.Docker;

    [Fact]
    public async Task Two_networks_give_eth0_and_eth1_and_only_their_own_network_reaches_a_container()
    {
        await using var daemon = await Daemon.StartAsync(_dirA, _hostA, Box.Name("a"), Box.Token + "p");
        var (keyA, _) = await KeyPairAsync();
        var (_, pubB) = await KeyPairAsync();
        var n1 = await CreateNetworkAsync(daemon, "n1", "--subnet", "10.93.0.0/24", "-o", "key=" + keyA, "-o", "port=51941", "-o", "peer-endpoint=192.168.79.2:51820", "-o", "peer-key=" + pubB);
        var n2 = await CreateNetworkAsync(daemon, "n2", "--ipam-driver", "null", "-o", "cidr=10.94.0.0/24", "-o", "gateway=10.94.0.1", "-o", "key=" + keyA, "-o", "port=51942", "-o", "peer-endpoint=192.168.79.2:51821", "-o", "peer-key=" + pubB);

        var c1 = await RunAsync("c1", n1);
        var sandbox1 = await Docker.SandboxKeyAsync(c1);
        Assert.Equal(["10.93.0.2/32"], await EventuallyAsync(sandbox1, "eth0"));
        Assert.Contains("eth0", await Docker.RunAsync("exec", c1, "ip", "-o", "addr"), StringComparison.Ordinal);

        await Docker.RunAsync("network", "connect", n2, c1);
        var addresses = await Oracle.AddressesAsync(sandbox1);
        Assert.Equal(["10.93.0.2/32"], addresses["eth0"]);
        Assert.Equal(["10.94.0.2/32"], addresses["eth1"]);
        var inside = await Docker.RunAsync("exec", c1, "ip", "-o", "addr");
        Assert.Contains("eth1", inside, StringComparison.Ordinal);
        Assert.Contains("10.94.0.2/32", inside, StringComparison.Ordinal);
        Assert.Contains("default via 10.93.0.1 dev eth0", await Docker.RunAsync("exec", c1, "ip", "route"), StringComparison.Ordinal);

        var c2 = await RunAsync("c2", n2);
        Assert.Equal(["10.94.0.3/32"], await EventuallyAsync(await Docker.SandboxKeyAsync(c2), "eth0"));
        Assert.Equal(0, (await Docker.TryRunAsync("exec", c1, "ping", "-c", "2", "-W", "2", "-I", "eth1", "10.94.0.3")).Code);
        Assert.NotEqual(0, (await Docker.TryRunAsync("exec", c1, "ping", "-c", "2", "-W", "1", "-I", "eth0", "10.94.0.3")).Code);

        await Docker.RunAsync("network", "disconnect", n2, c1);
        Assert.False((await Oracle.AddressesAsync(sandbox1)).ContainsKey("eth1"), "eth1 outlived docker network disconnect");

        await RemoveEverythingAsync();
        await AssertNothingLeftAsync(daemon, _hostA, sandbox1);
    }

    [Fact]
    public async Task Containers_on_two_hosts_ping_over_the_tunnel()
    {
        await Ip.RunAsync("-n", _hostA, "link", "add", "under", "type", "veth", "peer", "name", "under", "netns", _hostB);
        await Ip.RunAsync("-n", _hostA, "addr", "add", "192.168.79.1/30", "dev", "under");
        await Ip.RunAsync("-n", _hostB, "addr", "add", "192.168.79.2/30", "dev", "under");
        await Ip.RunAsync("-n", _hostA, "link", "set", "under", "up");
        await Ip.RunAsync("-n", _hostB, "link", "set", "under", "up");
        await using var daemonA = await Daemon.StartAsync(_dirA, _hostA, Box.Name("a"), Box.Token + "a");
        await using var daemonB = await Daemon.StartAsync(_dirB, _hostB, Box.Name("b"), Box.Token + "b");
        var (keyA, pubA) = await KeyPairAsync();
        var (keyB, pubB) = await KeyPairAsync();
        var na = await CreateNetworkAsync(daemonA, "na", "--subnet", "10.95.0.0/24", "--gateway", "10.95.0.1", "-o", "key=" + keyA, "-o", "port=51951", "-o", "peer-endpoint=192.168.79.2:51952", "-o", "peer-key=" + pubB, "-o", "keepalive=5");
        var nb = await CreateNetworkAsync(daemonB, "nb", "--ipam-driver", "null", "-o", "cidr=10.95.0.0/24", "-o", "gateway=10.95.0.1", "-o", "key=" + keyB, "-o", "port=51952", "-o", "peer-endpoint=192.168.79.1:51951", "-o", "peer-key=" + pubA);
        var ca = await RunAsync("ca", na, "--ip", "10.95.0.7");
        var cb = await RunAsync("cb", nb);
        Assert.Equal(["10.95.0.7/32"], await EventuallyAsync(await Docker.SandboxKeyAsync(ca), "eth0"));
        Assert.Equal(["10.95.0.2/32"], await EventuallyAsync(await Docker.SandboxKeyAsync(cb), "eth0"));

        var pinged = await Oracle.EventuallyAsync(async () => (await Docker.TryRunAsync("exec", ca, "ping", "-c", "1", "-W", "1", "10.95.0.2")).Code == 0, TimeSpan.FromSeconds(20));
        Assert.True(pinged, "container a did not reach container b over the tunnel in 20 s");
        Assert.Equal(0, (await Docker.TryRunAsync("exec", cb, "ping", "-c", "2", "-W", "2", "10.95.0.7")).Code);
        var (_, handshakes, _) = await Ip.ExecAsync("ip", "netns", "exec", _hostA, "wg", "show", Box.Name("a") + "0", "latest-handshakes");
        Assert.Contains(pubB, handshakes, StringComparison.Ordinal);
        Assert.DoesNotContain("\t0", handshakes, StringComparison.Ordinal);

        var sandboxA = await Docker.SandboxKeyAsync(ca);
        await RemoveEverythingAsync();
        await AssertNothingLeftAsync(daemonA, _hostA, sandboxA, "under");
        await AssertNothingLeftAsync(daemonB, _hostB, null, "under");
    }

    [Fact]
    public async Task A_container_on_a_bridge_network_joins_a_hub_network_and_keeps_the_bridges_default_route()
    {
        await Ip.RunAsync("-n", _hostA, "link", "add", "under", "type", "veth", "peer", "name", "under", "netns", _hostB);
        await Ip.RunAsync("-n", _hostA, "addr", "add", "192.168.79.1/30", "dev", "under");
        await Ip.RunAsync("-n", _hostB, "addr", "add", "192.168.79.2/30", "dev", "under");
        await Ip.RunAsync("-n", _hostA, "link", "set", "under", "up");
        await Ip.RunAsync("-n", _hostB, "link", "set", "under", "up");
        await using var daemonA = await Daemon.StartAsync(_dirA, _hostA, Box.Name("a"), Box.Token + "a");
        await using var daemonB = await Daemon.StartAsync(_dirB, _hostB, Box.Name("b"), Box.Token + "b");
        var (keyA, pubA) = await KeyPairAsync();
        var (keyB, pubB) = await KeyPairAsync();

        // Docker's own bridge driver first (a bridge of the test's name and a subnet picked at random), then the hub's.
        var third = System.Security.Cryptography.RandomNumberGenerator.GetInt32(0, 256);
        var bridgeName = Box.Token + "br";
        _networks.Add(bridgeName);
        await Docker.RunAsync("network", "create", "--driver", "bridge", "--subnet", $"172.30.{third}.0/24", "--gateway", $"172.30.{third}.1", "-o", "com.docker.network.bridge.name=" + Box.Token, bridgeName);
        var na = await CreateNetworkAsync(daemonA, "na", "--subnet", "10.96.0.0/24", "--gateway", "10.96.0.1", "-o", "key=" + keyA, "-o", "port=51961", "-o", "peer-endpoint=192.168.79.2:51962", "-o", "peer-key=" + pubB, "-o", "keepalive=5");
        var nb = await CreateNetworkAsync(daemonB, "nb", "--ipam-driver", "null", "-o", "cidr=10.96.0.0/24", "-o", "gateway=10.96.0.1", "-o", "key=" + keyB, "-o", "port=51962", "-o", "peer-endpoint=192.168.79.1:51961", "-o", "peer-key=" + pubA);
        var ca = await RunAsync("ca", bridgeName);
        var cb = await RunAsync("cb", nb);
        Assert.Equal(["10.96.0.2/32"], await EventuallyAsync(await Docker.SandboxKeyAsync(cb), "eth0"));
        var sandboxA = await Docker.SandboxKeyAsync(ca);
        Assert.Contains($"default via 172.30.{third}.1 dev eth0", await Docker.RunAsync("exec", ca, "ip", "route"), StringComparison.Ordinal);

        // docker network connect: eth1 with its address, the default route still the bridge's, the far peer reached.
        var (code, _, stderr) = await Docker.TryRunAsync("network", "connect", "--ip", "10.96.0.7", na, ca);
        Assert.True(code == 0, $"docker network connect: {stderr}\n--- daemon\n{daemonA.Output}");
        Assert.Equal(["10.96.0.7/32"], await EventuallyAsync(sandboxA, "eth1"));
        var routes = await Docker.RunAsync("exec", ca, "ip", "route");
        Assert.Contains($"default via 172.30.{third}.1 dev eth0", routes, StringComparison.Ordinal);
        Assert.DoesNotContain("default via 10.96.0.1", routes, StringComparison.Ordinal);
        Assert.Contains("10.96.0.0/24 via 10.96.0.1 dev eth1", routes, StringComparison.Ordinal);
        var attachments = (await CliProcess.RunAsync("hub", "list", "--socket", daemonA.Socket, "-o", "json")).Stdout;
        Assert.Matches("\"defaultRoute\"\\s*:\\s*false", attachments);
        var pinged = await Oracle.EventuallyAsync(async () => (await Docker.TryRunAsync("exec", ca, "ping", "-c", "1", "-W", "1", "10.96.0.2")).Code == 0, TimeSpan.FromSeconds(20));
        Assert.True(pinged, "the container on the bridge did not reach the hub network's far peer in 20 s");
        Assert.Equal(0, (await Docker.TryRunAsync("exec", cb, "ping", "-c", "2", "-W", "2", "10.96.0.7")).Code);

        await RemoveEverythingAsync();
        await AssertNothingLeftAsync(daemonA, _hostA, sandboxA, "under");
        await AssertNothingLeftAsync(daemonB, _hostB, null, "under");
        Assert.DoesNotContain(Box.Token, await Ip.LinkNamesAsync(null));
    }

    protected override async Task SetUpAsync()
    {
        _hostA = await Box.CreateNamespaceWithIpAsync("ha");
        _hostB = await Box.CreateNamespaceWithIpAsync("hb");
    }

    protected override async Task TearDownAsync()
    {
        try
        {
            await RemoveEverythingAsync();
        }
        finally
        {
            Directory.Delete(_dirA, recursive: true);
            Directory.Delete(_dirB, recursive: true);
        }
    }

    /// <summary>The addresses of <paramref name="name"/> in the sandbox once it has one: docker run joins before the
    /// container exists, and the hub attaches it as soon as its namespace does (a few ms later).</summary>
    private static async Task<List<string>> EventuallyAsync(string sandbox, string name)
    {
        List<string>? found = null;
        await Oracle.EventuallyAsync(async () => (await Oracle.AddressesAsync(sandbox)).TryGetValue(name, out found) && found.Count > 0, TimeSpan.FromSeconds(10));
        return found ?? [];
    }

    private static Task<(string Private, string Public)> KeyPairAsync()
    {
        var key = Aether.WireGuard.WireGuardSecretKey.GeneratePrivate();
        return Task.FromResult((key.ToBase64(), key.GetPublicKey().ToString()));
    }

    private async Task<string> CreateNetworkAsync(Daemon daemon, string suffix, params string[] args)
    {
        var name = Box.Token + suffix;
        var driver = Path.GetFileNameWithoutExtension(daemon.PluginSocket);
        var (code, stdout, stderr) = await Docker.TryRunAsync(["network", "create", "--driver", driver, .. args, name]);
        Assert.True(code == 0, $"docker network create {name}: {stderr}\n--- daemon\n{daemon.Output}");
        _networks.Add(name);
        Assert.Equal(64, stdout.Trim().Length);
        return name;
    }

    private async Task<string> RunAsync(string suffix, string network, params string[] args)
    {
        var name = Box.Token + suffix;
        _containers.Add(name);
        await Docker.RunAsync(["run", "-d", "--name", name, "--network", network, .. args, PrivateDocker.Image, "sleep", "600"]);
        return name;
    }

    private async Task RemoveEverythingAsync()
    {
        foreach (var container in _containers)
        {
            await Docker.TryRunAsync("rm", "-f", container);
        }

        foreach (var network in _networks)
        {
            var (code, _, stderr) = await Docker.TryRunAsync("network", "rm", network);
            Assert.True(code == 0 || stderr.Contains("not found", StringComparison.Ordinal), $"docker network rm {network}: {stderr}");
        }

        _containers.Clear();
        _networks.Clear();
    }

    private static async Task AssertNothingLeftAsync(Daemon daemon, string host, string? sandbox, params string[] keep)
    {
        Assert.Equal("[]", (await CliProcess.RunAsync("hub", "list", "--socket", daemon.Socket, "-o", "json")).Stdout.Trim());
        Assert.Equal(["lo", .. keep], (await Ip.LinkNamesAsync(host)).Order(StringComparer.Ordinal));
        if (sandbox is not null)
        {
            // dockerd unmounts a removed container's namespace at once and deletes the file in a sweep every 60 s.
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Split(' ')[4] == sandbox);
        }

        Assert.Equal(0, await daemon.StopAsync());
        await using var store = DriverStore.Open(Path.Combine(Path.GetDirectoryName(daemon.Socket)!, "aether.db"));
        var (networks, endpoints) = await store.LoadAsync(default);
        Assert.Empty(networks);
        Assert.Empty(endpoints);
    }
}
