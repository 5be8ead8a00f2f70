using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Aether.Server.Tests.Labs;

/// <summary>What keeps a lab the daemon deployed: its runtime repairs a link broken by hand with no request, its node's
/// process runs in the node's namespace and stops with the lab; a daemon started again brings its labs back; a lab an
/// <c>aether lab run</c> keeps gets no second runtime until a change takes it over.</summary>
public sealed class LabRuntimeTests : LabApiTest
{
    private Process? _runner;

    protected override async Task TearDownAsync()
    {
        if (_runner is { HasExited: false })
        {
            _runner.Kill();
            await _runner.WaitForExitAsync();
        }

        _runner?.Dispose();
        await base.TearDownAsync();
    }

    [Fact]
    public async Task The_runtime_repairs_a_deleted_end_by_itself_and_supervises_the_nodes_process()
    {
        await DeployAsync(Yaml(extraNode: ", exec: [\"sleep\", \"infinity\"]"));
        var h1 = (await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK)).GetProperty("nodes")[2];
        var process = h1.GetProperty("process");
        Assert.Equal("running", process.GetProperty("state").GetString());
        var pid = process.GetProperty("pid").GetInt32();
        Assert.Equal(await Ip.InodeInsideAsync(Ns("h1")), NetOf(pid));

        // The daemon holds the lab's keeper lock while its runtime runs (CLI commands refuse the lab meanwhile).
        var labDirectory = Path.Combine(State, "labs", Lab);
        Assert.True(await EventuallyAsync(() => Task.FromResult(Aether.Labs.Supervision.LabKeeper.Holder(labDirectory) == Environment.ProcessId), TimeSpan.FromSeconds(30)), "the daemon does not hold the keeper lock");
        Assert.EndsWith("sleep\0infinity\0", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"), StringComparison.Ordinal);

        await Ip.RunAsync("-n", Ns("r1"), "link", "del", "eth1");
        var clock = Stopwatch.StartNew();
        Assert.True(await EventuallyAsync(async () => await Ip.LinkAsync(Ns("r2"), "eth1") is not null, TimeSpan.FromSeconds(30)), "the runtime did not make r1:Ethernet1-r2:ge-0/0/0 again within 10 s");
        var repairedIn = clock.Elapsed;
        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1");
        Assert.True(await EventuallyAsync(async () => await IsUpAsync(Ns("r1"), "eth1") && await IsUpAsync(Ns("r2"), "eth1"), TimeSpan.FromSeconds(30)));

        // The repair is verified and reported.
        JsonElement runtime = default;
        Assert.True(
            await EventuallyAsync(
                async () => (runtime = (await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK)).GetProperty("runtime")).GetProperty("lastReport").ValueKind == JsonValueKind.Object,
                TimeSpan.FromSeconds(10)),
            "no report of the repair");
        Assert.Equal("running", runtime.GetProperty("state").GetString());
        Assert.Equal("repair", runtime.GetProperty("lastReport").GetProperty("trigger").GetString());
        Assert.Equal(2, runtime.GetProperty("lastReport").GetProperty("up").GetInt32());
        Assert.True(repairedIn < TimeSpan.FromSeconds(10), repairedIn.ToString());

        await ExpectAsync(await Client.DeleteAsync($"/v1/labs/{Lab}"), HttpStatusCode.NoContent);
        Assert.True(await EventuallyAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(30)), "h1's process outlived its lab");
        Assert.Empty(await LabNamespacesAsync());
        Assert.Null(Aether.Labs.Supervision.LabKeeper.Holder(labDirectory));
    }

    [Fact]
    public async Task A_daemon_started_again_brings_its_labs_back()
    {
        await DeployAsync(Yaml());
        await StopDaemonAsync();
        await Ip.RunAsync("netns", "del", Ns("r2"));

        await StartDaemonAsync();
        Assert.True(await EventuallyAsync(async () => await Ip.NetnsNamesAsync() is var names && names.Contains(Ns("r2")) && await Ip.LinkAsync(Ns("r2"), "eth1") is not null, TimeSpan.FromSeconds(20)), "r2 was not brought back");
        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1");
        JsonElement lab = default;
        Assert.True(await EventuallyAsync(
            async () => (lab = await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK)).GetProperty("runtime").GetProperty("state").GetString() == "running",
            TimeSpan.FromSeconds(20)));
        Assert.All(lab.GetProperty("links").EnumerateArray(), l => Assert.Equal("up", l.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task A_lab_kept_by_a_cli_runner_gets_no_second_runtime_until_a_change_takes_it_over()
    {
        await DeployAsync(Yaml());
        await StopDaemonAsync();

        // A stand-in for `aether lab run LAB`: its command line says so, and it exits on SIGTERM.
        _runner = Process.Start(new ProcessStartInfo("sh", ["-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done", "lab", "run", Lab]) { UseShellExecute = false })!;
        Directory.CreateDirectory(Path.Combine(State, "labs", Lab));
        await File.WriteAllTextAsync(Path.Combine(State, "labs", Lab, "run.pid"), _runner.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await StartDaemonAsync();
        JsonElement runtime = default;
        Assert.True(await EventuallyAsync(
            async () => (runtime = (await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK)).GetProperty("runtime")).GetProperty("state").GetString() != "starting",
            TimeSpan.FromSeconds(20)));
        Assert.Equal("cli-runner", runtime.GetProperty("state").GetString());
        Assert.Equal(_runner.Id, runtime.GetProperty("runnerPid").GetInt32());

        // The daemon does not repair it: the runner is its keeper.
        await Ip.RunAsync("-n", Ns("r1"), "link", "del", "eth1");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Null(await Ip.LinkAsync(Ns("r1"), "eth1"));

        // A change stops the runner and the daemon keeps the lab from then on.
        var down = await ExpectAsync(await Client.PatchAsync(LinkPath("r1:eth2-h1:eth1"), Json(new { state = "down" })), HttpStatusCode.OK);
        Assert.Equal("down", down.GetProperty("state").GetString());
        Assert.True(_runner.WaitForExit(TimeSpan.FromSeconds(30)), "the CLI runner was not stopped");
        runtime = (await ExpectAsync(await Client.GetAsync($"/v1/labs/{Lab}"), HttpStatusCode.OK)).GetProperty("runtime");
        Assert.Equal("running", runtime.GetProperty("state").GetString());
        Assert.False(await IsUpAsync(Ns("h1"), "eth1"));
        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1"); // the change converged the lab
        await Ip.RunAsync("-n", Ns("r2"), "link", "del", "eth1");
        Assert.True(await EventuallyAsync(async () => await Ip.LinkAsync(Ns("r2"), "eth1") is not null, TimeSpan.FromSeconds(30)), "the daemon's runtime did not repair the link");
    }

    private static ulong NetOf(int pid) => new FileInfo($"/proc/{pid}/ns/net").LinkTarget is { } target ? Ip.ParseNsLink(target) : 0;
}
