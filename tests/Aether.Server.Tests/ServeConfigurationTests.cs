using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>
/// Where <c>aether serve</c> takes its settings from, each over the one before: a JSON file (<c>--config</c>, by
/// default <c>/etc/aether/aether.json</c>), <c>AETHER_</c>-prefixed environment variables, then its flags; read from
/// the real daemon's behaviour (which socket it listens on, which database it makes).
/// </summary>
public sealed class ServeConfigurationTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-config-").FullName;
    private readonly Sandbox _box = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _box.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task The_file_the_environment_and_the_flags_override_each_other_in_that_order()
    {
        var (fromFile, fromEnvironment, fromFlag) = (Path.Combine(_dir, "file.sock"), Path.Combine(_dir, "env.sock"), Path.Combine(_dir, "flag.sock"));
        var db = Path.Combine(_dir, "lib", "from-file.db");
        var config = Path.Combine(_dir, "aether.json");
        await File.WriteAllTextAsync(config, $$"""{ "SocketPath": "{{fromFile}}", "DatabasePath": "{{db}}", "WireGuardPrefix": "{{_box.Name("w")}}" }""");
        var ns = await _box.CreateNamespaceWithIpAsync("h");

        // The environment over the file; the file's database kept.
        await using (var daemon = RealDaemon.Start(["serve", "--config", config, "--namespace", ns], new Dictionary<string, string> { ["AETHER_SOCKETPATH"] = fromEnvironment }))
        {
            await daemon.WaitReadyAsync(fromEnvironment);
            Assert.False(File.Exists(fromFile));
            Assert.True(File.Exists(db), "the file's DatabasePath was not used");
            Assert.Equal(0, await daemon.StopAsync());
        }

        // A flag over both.
        await using (var daemon = RealDaemon.Start(["serve", "--config", config, "--namespace", ns, "--socket", fromFlag], new Dictionary<string, string> { ["AETHER_SOCKETPATH"] = fromEnvironment }))
        {
            await daemon.WaitReadyAsync(fromFlag);
            Assert.False(File.Exists(fromEnvironment));
            Assert.Equal(0, await daemon.StopAsync());
        }
    }

    [Fact]
    public async Task A_bad_file_or_value_exits_2_naming_it_before_anything_is_made()
    {
        var bad = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(bad, "{ \"SocketPath\": ");
        var db = Path.Combine(_dir, "lib", "aether.db");
        var result = await CliProcess.RunAsync("serve", "--config", bad, "--db", db);
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains(bad, result.Stderr, StringComparison.Ordinal);

        var missing = await CliProcess.RunAsync("serve", "--config", Path.Combine(_dir, "none.json"), "--db", db);
        Assert.True(missing.Code == 2, missing.ToString());
        Assert.Contains("--config", missing.Stderr, StringComparison.Ordinal);

        var wrongType = Path.Combine(_dir, "type.json");
        await File.WriteAllTextAsync(wrongType, """{ "HubResync": "soon" }""");
        var typed = await CliProcess.RunAsync("serve", "--config", wrongType, "--db", db);
        Assert.True(typed.Code == 2, typed.ToString());
        Assert.Contains("HubResync", typed.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "lib")));
    }
}
