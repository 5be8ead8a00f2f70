using System.Net;
using System.Text;
using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary><c>aether serve --profiles FILE</c>: the daemon reads labs with the user's naming profiles, as
/// <c>aether lab --profiles</c> does; a file that is not valid stops it at start with exit 2 and nothing made.</summary>
public sealed class ServeProfilesTests : SandboxTest
{
    private const string Profiles = """
        kinds:
          aetos:
            interfaces:
              - { vendor: "Port{n}", linux: "eth{n}", first: 1 }
        """;

    private string _dir = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Serve_refuses_a_profiles_file_that_is_not_valid_with_exit_2_and_creates_nothing()
    {
        var file = Path.Combine(_dir, "profiles.yaml");
        await File.WriteAllTextAsync(file, "kinds:\n  x:\n    interfaces:\n      - { vendor: \"A{n\", linux: \"eth{n}\" }\n");

        var result = await CliProcess.RunAsync("serve", "--socket", Path.Combine(_dir, "run", "aether.sock"), "--db", Path.Combine(_dir, "lib", "aether.db"), "--profiles", file);

        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("kinds.x.interfaces[0].vendor", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(file + ": invalid profiles", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "lib")));
    }

    [Fact]
    public async Task The_daemon_reads_labs_with_the_profiles_it_was_given()
    {
        var file = Path.Combine(_dir, "profiles.yaml");
        await File.WriteAllTextAsync(file, Profiles);
        var socket = Path.Combine(_dir, "aether.sock");
        var lab = Box.Token;
        Box.TrackNamespace(lab + "-a");
        Box.TrackNamespace(lab + "-b");
        using var daemon = CliProcess.Start("serve", "--socket", socket, "--db", Path.Combine(_dir, "aether.db"), "--state-dir", Path.Combine(_dir, "state"), "--profiles", file, "--wireguard-prefix", Box.Name("w"));
        var stderr = daemon.StandardError.ReadToEndAsync();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(socket))
            {
                Assert.False(daemon.HasExited, "the daemon exited: " + (daemon.HasExited ? await stderr : ""));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no socket in 60 s");
                await Task.Delay(50);
            }

            using var client = Unix.Client(socket);
            var yaml = $"name: {lab}\nnodes:\n  a: {{ kind: aetos }}\n  b: {{ kind: linux }}\nlinks:\n  - endpoints: [\"a:Port2\", \"b:eth1\"]\n";
            using (var deployed = await client.PostAsync("/v1/labs", new StringContent(yaml, Encoding.UTF8, "application/yaml")))
            {
                Assert.True(deployed.IsSuccessStatusCode, $"{deployed.StatusCode}: {await deployed.Content.ReadAsStringAsync()}");
            }

            // Port2 is eth2 by the user's profile, in the store and in the kernel.
            using var mappings = JsonDocument.Parse(await client.GetStringAsync($"/v1/labs/{lab}/interface-mappings"));
            Assert.Contains(mappings.RootElement.EnumerateArray(), m => m.GetProperty("node").GetString() == "a" && m.GetProperty("linux").GetString() == "eth2" && m.GetProperty("vendor").GetString() == "Port2");
            Assert.NotNull(await Ip.LinkAsync(lab + "-a", "eth2"));

            using var deleted = await client.DeleteAsync($"/v1/labs/{lab}");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.DoesNotContain(lab + "-a", await Ip.NetnsNamesAsync());
        }
        finally
        {
            if (!daemon.HasExited)
            {
                CliProcess.Terminate(daemon);
            }

            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
