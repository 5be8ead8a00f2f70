using System.Globalization;
using System.Text.Json;

namespace Aether.Cli.Tests;

/// <summary><c>aether lab ...</c> end to end through the real binary: a lab written with vendor names deployed,
/// listed, inspected, verified (deep too), broken by hand and reconciled, a command run inside a node, its node's
/// process supervised by the background runner, and destroyed; bad input refused with positions and nothing touched.
/// Checked with <c>ip -j</c> and <c>/proc</c>.</summary>
public sealed class LabCommandTests : SandboxTest
{
    private string _dir = null!;
    private string _state = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        _state = Path.Combine(_dir, "state");
        foreach (var node in new[] { "r1", "r2", "h1" })
        {
            Box.TrackNamespace($"{Box.Token}-{node}");
        }

        return Task.CompletedTask;
    }

    protected override Task TearDownAsync()
    {
        // The background runner (and the process it supervises) must not outlive a failed test.
        var pidFile = Path.Combine(_state, "labs", Box.Token, "run.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            try
            {
                using var runner = System.Diagnostics.Process.GetProcessById(pid);
                runner.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        return Task.CompletedTask;
    }

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "lab.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static ulong NetOf(string pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/net").LinkTarget is { } target ? Ip.ParseNsLink(target) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private Task<Cli.Result> LabAsync(params string[] args) => Cli.RunAsync(["lab", "--state-dir", _state, .. args]);

    private string Lab() => $$"""
        name: {{Box.Token}}
        nodes:
          r1: { kind: arista_ceos }
          r2: { kind: juniper_vmx }
          h1: { kind: linux, exec: ["sleep", "infinity"] }
        links:
          - endpoints: ["r1:Ethernet1", "r2:ge-0/0/0"]
          - endpoints: ["r1:eth2", "h1:eth1"]
            mtu: 9000
        """;

    [Fact]
    public async Task A_lab_is_deployed_listed_verified_repaired_entered_and_destroyed()
    {
        var file = Write(Lab());
        var deployed = await LabAsync("deploy", "-f", file);
        Assert.True(deployed.Code == 0, deployed.ToString());
        Assert.Contains("up       r1:Ethernet1 ↔ r2:ge-0/0/0", deployed.Stdout, StringComparison.Ordinal);
        Assert.Contains("lab runner started", deployed.Stdout, StringComparison.Ordinal);
        var r1 = $"{Box.Token}-r1";
        Assert.Equal(9000, Ip.Int(await Ip.RequireLinkAsync($"{Box.Token}-h1", "eth1"), "mtu"));

        var links = await LabAsync("links", Box.Token, "-o", "json");
        using (var json = JsonDocument.Parse(links.Stdout))
        {
            var first = json.RootElement.GetProperty("links")[0];
            Assert.Equal(Box.Token, json.RootElement.GetProperty("lab").GetString());
            Assert.Equal(["r1:Ethernet1", "r2:ge-0/0/0"], first.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal("up", first.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);
            Assert.Equal(JsonValueKind.String, first.GetProperty("checked").ValueKind);
        }

        var inspect = await LabAsync("inspect", Box.Token);
        Assert.Contains("ge-0/0/0", inspect.Stdout, StringComparison.Ordinal);
        Assert.Contains("Ethernet2                eth2", inspect.Stdout, StringComparison.Ordinal);

        var deep = await LabAsync("verify", Box.Token, "--deep");
        Assert.True(deep.Code == 0, deep.ToString());
        Assert.Contains("frame across", deep.Stdout, StringComparison.Ordinal);

        // The runner supervises h1's process, inside h1's namespace.
        var pid = int.Parse(File.ReadAllText(Path.Combine(_state, "labs", Box.Token, "run.pid")), CultureInfo.InvariantCulture);
        var h1 = await Ip.InodeInsideAsync($"{Box.Token}-h1");
        string? Sleeper() => Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit))
            .FirstOrDefault(p => ReadOrEmpty($"/proc/{p}/cmdline").EndsWith("sleep\0infinity\0", StringComparison.Ordinal) && NetOf(p!) == h1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? sleeper;
        while ((sleeper = Sleeper()) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "h1's process is not running in h1's namespace");
            await Task.Delay(20);
        }

        // It repairs a link broken by hand from the kernel's hint.
        await Ip.RunAsync("-n", r1, "link", "del", "eth1");
        clock.Restart();
        while (await Ip.LinkAsync(r1, "eth1") is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the runner did not repair r1:eth1");
            await Task.Delay(20);
        }

        // Stopped (SIGTERM), it stops the process it supervised.
        Cli.Terminate(System.Diagnostics.Process.GetProcessById(pid));
        clock.Restart();
        while (Directory.Exists($"/proc/{pid}") || Directory.Exists($"/proc/{sleeper}"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the runner or its process did not stop");
            await Task.Delay(20);
        }

        // Without it, verify finds a broken link and reconcile repairs it, with the counts.
        await Ip.RunAsync("-n", r1, "link", "del", "eth1");
        var verify = await LabAsync("verify", Box.Token);
        Assert.True(verify.Code == 1, verify.ToString());
        Assert.Contains("error    r1:Ethernet1 ↔ r2:ge-0/0/0: r1:Ethernet1 (eth1) is missing", verify.Stdout, StringComparison.Ordinal);
        var reconcile = await LabAsync("reconcile", Box.Token);
        Assert.True(reconcile.Code == 0, reconcile.ToString());
        Assert.Contains("checked 2, valid 1, repaired 1, errors 0", reconcile.Stdout, StringComparison.Ordinal);
        Assert.NotNull(await Ip.LinkAsync(r1, "eth1"));

        var exec = await LabAsync("exec", Box.Token, "r1", "--", "ip", "-br", "link", "show", "eth2");
        Assert.True(exec.Code == 0, exec.ToString());
        var failing = await LabAsync("exec", Box.Token, "r1", "--", "sh", "-c", "exit 7");
        Assert.Equal(7, failing.Code);

        var destroyed = await LabAsync("destroy", "-f", file);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        var left = await Ip.NetnsNamesAsync();
        Assert.DoesNotContain(left, n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        Assert.Equal(1, (await LabAsync("links", Box.Token)).Code);
    }

    [Fact]
    public async Task An_invalid_lab_exits_2_with_every_problem_at_its_position_and_touches_nothing()
    {
        var file = Write($$"""
            name: {{Box.Token}}
            nodes:
              r1: { kind: arista_ceos }
              r2: { kind: no_such_kind }
            links:
              - endpoints: ["r1:Ethernet1", "r3:eth1"]
              - endpoints: ["r1:eth1", "r2:eth1"]
            """);

        var result = await LabAsync("deploy", "-f", file);

        Assert.Equal(2, result.Code);
        Assert.Contains(file + ":4:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(file + ":6:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(file + ":7:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was touched", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
    }
}
