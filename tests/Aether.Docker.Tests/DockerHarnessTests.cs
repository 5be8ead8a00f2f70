using Aether.TestInfrastructure;
using Aether.Docker.Tests.Infrastructure;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Docker.Tests;

/// <summary>The private dockerd itself, and a refusal that travels through it: docker network create with bad options
/// fails with the driver's message naming them, and nothing is made.</summary>
[Collection(DockerCollection.Name)]
public sealed class DockerHarnessTests(DockerFixture fixture) : SandboxTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aetdh-").FullName;
    private string _host = null!;

    [Fact]
    public async Task A_second_private_dockerd_runs_the_image_and_leaves_nothing_behind()
    {
        var docker = await PrivateDocker.StartAsync();
        var root = docker.Root;
        int pid;
        try
        {
            pid = int.Parse(File.ReadAllText(Path.Combine(root, "docker.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            var name = Box.Token + "c";
            await docker.RunAsync("run", "-d", "--name", name, "--network", "none", PrivateDocker.Image, "sleep", "600");
            var addresses = await docker.RunAsync("exec", name, "ip", "-o", "addr");
            Assert.Contains("lo", addresses, StringComparison.Ordinal);
            Assert.DoesNotContain("eth0", addresses, StringComparison.Ordinal);
        }
        finally
        {
            await docker.DisposeAsync();
        }

        Assert.False(Directory.Exists(root), "the private directory outlived dockerd");
        Assert.False(File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(root, StringComparison.Ordinal), "dockerd outlived its disposal");
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(root, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Docker_network_create_with_bad_options_names_them_and_makes_nothing()
    {
        var plugin = Box.Token + "d";
        await using var daemon = await Daemon.StartAsync(_dir, _host, Box.Name("w"), plugin);
        var docker = fixture.Docker;
        var network = Box.Token + "n";
        var (code, _, stderr) = await docker.TryRunAsync("network", "create", "--driver", plugin, "--subnet", "10.91.0.0/24", "-o", "port=0", "-o", "colour=blue", "-o", "cidr=10.92.0.0/24", network);
        Assert.True(code != 0, stderr);
        Assert.Contains("-o port: '0' is not an integer 1-65535", stderr, StringComparison.Ordinal);
        Assert.Contains("-o colour: unknown option", stderr, StringComparison.Ordinal);
        Assert.Contains("-o cidr: 10.92.0.0/24 differs from docker's pool 10.91.0.0/24", stderr, StringComparison.Ordinal);
        Assert.Contains("-o key: required", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await docker.TryRunAsync("network", "create", "--driver", plugin, "--ipam-driver", "null", "-o", "key=" + Messages.Key, "-o", "port=51930", network);
        Assert.True(code != 0, stderr);
        Assert.Contains("-o cidr: required with --ipam-driver null", stderr, StringComparison.Ordinal);

        Assert.Equal("", (await docker.RunAsync("network", "ls", "-q", "--filter", "name=" + network)).Trim());
        Assert.Equal("[]", (await CliProcess.RunAsync("hub", "list", "--socket", daemon.Socket, "-o", "json")).Stdout.Trim());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(_host));
    }

    protected override async Task SetUpAsync() => _host = await Box.CreateNamespaceWithIpAsync("h");

    protected override Task TearDownAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}
