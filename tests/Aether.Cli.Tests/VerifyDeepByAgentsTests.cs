using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Aether.TestInfrastructure;

namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether lab verify NAME --deep</c> where the command cannot see a single node namespace: it runs in a private
/// mount namespace with an empty tmpfs over <c>/run/netns</c>, so every frame is sent and answered by the agent
/// processes of the simulated hosts, coordinated through PostgreSQL. Oracles: the agents' frames crossing (and
/// failing with the host named when an agent is killed), <c>ip -j -d</c>, psql (no probe row left).
/// </summary>
public sealed partial class VerifyDeepByAgentsTests : SandboxTest
{
    private readonly List<Process> _agents = [];
    private string _dir = null!;

    [Fact]
    public async Task Verify_deep_from_a_machine_without_the_namespaces_is_answered_by_the_agents()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var name = await server.CreateDatabaseAsync();
        var database = server.Url(name);
        var (h1, h2) = (Box.Name("h1"), Box.Name("h2"));
        await HostsAsync(h1, h2);
        var lab = Box.Token;
        foreach (var node in new[] { "r1", "r2", "r3" })
        {
            Box.TrackNamespace($"{lab}-{node}");
        }

        var agent1 = StartAgent(database, "h1", "192.168.252.1", h1);
        StartAgent(database, "h2", "192.168.252.2", h2);
        var file = Path.Combine(_dir, "lab.yaml");
        await File.WriteAllTextAsync(file, $"name: {lab}\nnodes:\n  r1: {{ kind: linux, host: h1 }}\n  r2: {{ kind: linux, host: h2 }}\n  r3: {{ kind: linux, host: h2 }}\n"
            + "links:\n  - endpoints: [r1:eth1, r2:eth1]\n  - endpoints: [r2:eth2, r3:eth1]\n");
        string[] db = ["--db", database, "--state-dir", Path.Combine(_dir, "ctl")];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Cli.Result deployed;
        while ((deployed = await Cli.RunAsync(["lab", "deploy", "-f", file, .. db])).Code == 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(deployed.Code == 0, deployed.ToString());

        // Blind: the command sees no namespace at all, yet a frame crosses both links (the agents sent them).
        var blindLs = await BlindAsync(["ip", "netns", "list"]);
        Assert.DoesNotContain(lab, blindLs.Stdout, StringComparison.Ordinal);
        var deep = await BlindAsync([Cli.BinaryPath, "lab", "verify", lab, "--deep", "-o", "json", .. db]);
        Assert.True(deep.Code == 0, deep.ToString());
        var frames = Frames(deep.Stdout);
        Assert.All(frames.Values, f => Assert.True(f.GetProperty("crossed").GetBoolean(), f.ToString()));
        Assert.All(frames.Values, f => Assert.True(f.GetProperty("latency_ms").GetDouble() > 0, f.ToString()));
        Assert.Equal("0", (await server.QueryAsync(name, "SELECT count(*) FROM cluster_probes")).Single()[0]);

        // h1's agent killed: the cross-host link fails by timeout naming h1; r2-r3 (both ends on h2) still crosses.
        Assert.Equal(0, Kill(agent1.Id, 9));
        await agent1.WaitForExitAsync();
        _ = await Ip.RequireLinkAsync($"{lab}-r1", "eth1"); // its link stays: only nobody answers there
        var clock = Stopwatch.StartNew();
        var failed = await BlindAsync([Cli.BinaryPath, "lab", "verify", lab, "--deep", "-o", "json", .. db]);
        Assert.True(failed.Code == 1, failed.ToString());
        // Not at once: h2's agent listens for twice the frame timeout (2 of the 3 s) before it fails the probe naming
        // h1, so the command ends between that window and the CLI's own 3 s wait (2.83 s was seen).
        Assert.InRange(clock.Elapsed.TotalSeconds, 2.0, 20);
        frames = Frames(failed.Stdout);
        var cross = frames["r1:eth1-r2:eth1"];
        Assert.False(cross.GetProperty("crossed").GetBoolean());
        Assert.Contains("host h1", cross.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Contains("did not answer", cross.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.True(frames["r2:eth2-r3:eth1"].GetProperty("crossed").GetBoolean());
        Assert.Equal("0", (await server.QueryAsync(name, "SELECT count(*) FROM cluster_probes")).Single()[0]);
    }

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    protected override async Task TearDownAsync()
    {
        foreach (var agent in _agents)
        {
            if (!agent.HasExited)
            {
                _ = Kill(agent.Id, 9);
                await agent.WaitForExitAsync();
            }

            agent.Dispose();
        }
    }

    private static Dictionary<string, JsonElement> Frames(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("links").EnumerateArray().ToDictionary(l => l.GetProperty("id").GetString()!, l => l.GetProperty("frame").Clone());
    }

    /// <summary>Runs <paramref name="command"/> in a private mount namespace whose <c>/run/netns</c> is an empty tmpfs:
    /// no named namespace is visible to it.</summary>
    private static async Task<Cli.Result> BlindAsync(string[] command)
    {
        var quoted = string.Join(' ', command.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        using var process = Process.Start(new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "sh", "-c", $"mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns && exec {quoted}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return new Cli.Result(process.ExitCode, await stdout, await stderr);
    }

    private Process StartAgent(string database, string host, string underlay, string ns)
    {
        var agent = Cli.Start(["agent", "--db", database, "--host-id", host, "--underlay", underlay, "--namespace", ns, "--state-dir", Path.Combine(_dir, host), "--resync", "2s"]);
        agent.OutputDataReceived += (_, _) => { };
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        _agents.Add(agent);
        return agent;
    }

    /// <summary>Two host namespaces on an underlay bridge (192.168.252.0/24).</summary>
    private async Task HostsAsync(string h1, string h2)
    {
        var underlay = Box.Name("u");
        foreach (var ns in new[] { underlay, h1, h2 })
        {
            Box.TrackNamespace(ns);
            await Ip.RunAsync("netns", "add", ns);
        }

        await Ip.RunAsync("-n", underlay, "link", "add", "br0", "type", "bridge");
        await Ip.RunAsync("-n", underlay, "link", "set", "br0", "up");
        foreach (var (ns, i) in new[] { (h1, 1), (h2, 2) })
        {
            var port = "p" + i.ToString(CultureInfo.InvariantCulture);
            await Ip.RunAsync("-n", ns, "link", "set", "lo", "up");
            await Ip.RunAsync("-n", ns, "link", "add", "u0", "type", "veth", "peer", "name", port, "netns", underlay);
            await Ip.RunAsync("-n", underlay, "link", "set", port, "master", "br0", "up");
            await Ip.RunAsync("-n", ns, "addr", "add", $"192.168.252.{i}/24", "dev", "u0");
            await Ip.RunAsync("-n", ns, "link", "set", "u0", "up");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
