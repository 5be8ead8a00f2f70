using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Aether.Labs.Supervision;

namespace Aether.Labs.Tests.Supervision;

/// <summary>Supervised processes against the real kernel (root): the namespace they run in, their log, restarts with
/// backoff, stopping their whole process group, and starts that fail. The oracles are /proc, <c>ip</c> and the
/// processes' own output.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class NodeProcessTests : NodeProcessTest
{
    [Fact]
    public async Task ChildRunsInTheNamespace()
    {
        var ns = Box.CreateNamespace("n");
        var process = Start(ns, ["sleep", "1000"]);
        Assert.Equal(NodeProcessState.Running, process.Status.State);
        var pid = process.Status.Pid!.Value;

        // The pid is the command's own once unshare and the shell have exec'd into it.
        await WaitUntilAsync(() => File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep", TimeSpan.FromSeconds(30), "pid runs sleep");
        var inode = NetInodeOf(pid);
        Assert.Equal(ns.Inode, inode);
        Assert.Equal(await Ip.InodeInsideAsync(ns.Name!), inode); // what ip netns exec sees inside it
        Assert.NotEqual(NetInodeOf(Environment.ProcessId), inode);

        // Its own session and process group, led by it.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), fields[2]); // pgrp
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), fields[3]); // session
    }

    [Fact]
    public async Task ChildSeesItsNamespacesSysAndTheHostsStaysAsItWas()
    {
        var ns = Box.CreateNamespace("n");
        var a = Box.Name("a");
        await Ip.RunAsync("-n", ns.Name!, "link", "add", a, "type", "veth", "peer", "name", Box.Name("b"));
        var hostSys = SysMount();
        var inside = await Ip.LinkNamesAsync(ns.Name);

        var own = LogOf("own");
        Start(ns, ["sh", "-c", "ls /sys/class/net; echo done; exec sleep 1000"], name: "own");
        await WaitUntilAsync(() => Lines(own).Contains("done"), TimeSpan.FromSeconds(30), "ls /sys/class/net in the node");
        var listed = Lines(own).TakeWhile(l => l != "done").Where(l => !l.Contains(" aether: ", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(inside, listed); // lo and the veth pair: the namespace's devices, nothing of the host's

        // Without it, the node sees the host's /sys (which has devices the namespace has not).
        var hostOnly = (await Ip.LinkNamesAsync(null)).First(n => n != "lo");
        var shared = LogOf("shared");
        Start(ns, ["sh", "-c", "ls /sys/class/net; echo done; exec sleep 1000"], name: "shared", privateSys: false);
        await WaitUntilAsync(() => Lines(shared).Contains("done"), TimeSpan.FromSeconds(30), "ls /sys/class/net without a private /sys");
        Assert.Contains(hostOnly, Lines(shared));
        Assert.DoesNotContain(a, Lines(shared));

        Assert.Equal(hostSys, SysMount()); // the host's /sys is the same mount, untouched
    }

    [Fact]
    public async Task OutputAndStartAndExitLinesLandInTheLog()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var process = Start(ns, ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exec sleep 1000"]);
        var pid = process.Status.Pid!.Value;
        await WaitUntilAsync(() => Lines(log).Contains("to-stdout") && Lines(log).Contains("to-stderr"), TimeSpan.FromSeconds(30), "output in the log");

        var watch = Stopwatch.StartNew();
        await process.StopAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"a process that obeys SIGTERM took {watch.Elapsed} to stop");
        Assert.True(IsGone(pid));
        Assert.Equal(NodeProcessState.Stopped, process.Status.State);
        Assert.Equal(new ProcessExit(null, 15), process.Status.LastExit);
        Assert.Null(process.Status.Pid);

        var lines = Lines(log).Where(l => l.Contains(" aether: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Matches($"^started pid {pid} in {ns.Name}: sh -c echo to-stdout; echo to-stderr >&2; exec sleep 1000$", Message(lines[0]));
        Assert.Equal($"stopping pid {pid}: SIGTERM to its process group", Message(lines[1]));
        Assert.Equal($"stopped pid {pid}: signal 15 (SIGTERM)", Message(lines[2]));
        foreach (var line in lines)
        {
            var at = DateTimeOffset.ParseExact(line[..24], "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.InRange(at, before, DateTimeOffset.UtcNow);
        }

        // Appended, never truncated: a second process on the same log adds to it.
        await using var again = NodeProcess.Start(ns, new NodeProcessSpec(["sh", "-c", "echo second-run; exec sleep 1000"], log), Fast);
        await WaitUntilAsync(() => Lines(log).Contains("second-run"), TimeSpan.FromSeconds(30), "the second run's output");
        Assert.Contains("to-stdout", Lines(log));
    }

    [Fact]
    public async Task AProcessThatExitsIsRestartedWithDoublingBackoff()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var process = Start(ns, ["sh", "-c", "date +%s.%N; exit 3"]);

        // Five runs: waits of 0.2, 0.4, 0.8 (the cap) and 0.8 s between them.
        await WaitUntilAsync(() => Starts(log).Length >= 5, TimeSpan.FromSeconds(30), "five runs");
        var status = process.Status;
        Assert.InRange(status.Restarts, 4, 5);
        Assert.Equal(new ProcessExit(3, null), status.LastExit);
        var gaps = Gaps(Starts(log).Take(5).ToArray());
        AssertGaps([200, 400, 800, 800], gaps, "runs of no time");
        Assert.Equal(["next start in 0.2 s", "next start in 0.4 s", "next start in 0.8 s", "next start in 0.8 s"],
            SupervisorLines(log).Where(l => l.StartsWith("next start", StringComparison.Ordinal)).Take(4));
        Assert.Contains(SupervisorLines(log), l => ExitedLine().IsMatch(l) && l.Contains("exit status 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BackoffResetsAfterALongEnoughRun()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");

        // Each run lasts 0.4 s, longer than the reset time of 0.3 s: every wait is the initial 0.2 s, so runs start
        // about 0.6 s apart (doubling would make it 0.6, 0.8, 1.2 s).
        Start(ns, ["sh", "-c", "date +%s.%N; sleep 0.4; exit 1"], Fast with { ResetAfter = TimeSpan.FromMilliseconds(300), MaxBackoff = TimeSpan.FromSeconds(3.2) });
        await WaitUntilAsync(() => Starts(log).Length >= 4, TimeSpan.FromSeconds(30), "four runs");
        AssertGaps([600, 600, 600], Gaps(Starts(log).Take(4).ToArray()), "runs longer than the reset time");
        Assert.All(SupervisorLines(log).Where(l => l.StartsWith("next start", StringComparison.Ordinal)), l => Assert.Equal("next start in 0.2 s", l));
    }

    [Fact]
    public async Task StopKillsAGroupThatIgnoresSigtermAfterTheGrace()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var grace = TimeSpan.FromMilliseconds(700);

        // The shell ignores SIGTERM, and so does its child (an ignored signal stays ignored across fork and exec).
        var process = Start(ns, ["sh", "-c", "trap '' TERM; sleep 1000 & echo grandchild $!; wait"], Fast with { StopGrace = grace });
        var pid = process.Status.Pid!.Value;
        await WaitUntilAsync(() => NumberAfter(log, "grandchild ") is not null, TimeSpan.FromSeconds(30), "the grandchild's pid in the log");
        var grandchild = NumberAfter(log, "grandchild ")!.Value;
        Assert.False(IsGone(grandchild));

        var watch = Stopwatch.StartNew();
        await process.StopAsync();
        var took = watch.Elapsed;
        Assert.True(took >= grace - TimeSpan.FromMilliseconds(20), $"stopped after {took}, before the grace of {grace}");
        Assert.True(took < grace + TimeSpan.FromSeconds(2), $"stopped after {took}, the grace is {grace}");
        Assert.True(IsGone(pid), "the child survived");
        Assert.True(IsGone(grandchild), "the grandchild survived");
        Assert.Equal(new ProcessExit(null, 9), process.Status.LastExit);
        Assert.Contains($"process group {pid} did not stop within 0.7 s: SIGKILL", SupervisorLines(log));
        Assert.Contains($"stopped pid {pid}: signal 9 (SIGKILL)", SupervisorLines(log));
    }

    [Fact]
    public async Task WhatAnExitedChildLeftInItsGroupIsStoppedBeforeTheRestart()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var process = Start(ns, ["sh", "-c", "sleep 1000 & echo grandchild $!; sleep 0.3; exit 0"], Fast with { InitialBackoff = TimeSpan.FromSeconds(30), MaxBackoff = TimeSpan.FromSeconds(30) });
        var pid = process.Status.Pid!.Value;
        await WaitUntilAsync(() => process.Status.LastExit is not null, TimeSpan.FromSeconds(30), "the first exit");
        var grandchild = NumberAfter(log, "grandchild ")!.Value;
        await WaitUntilAsync(() => IsGone(grandchild), TimeSpan.FromSeconds(15), "the grandchild left behind is stopped");
        Assert.Equal(new ProcessExit(0, null), process.Status.LastExit);
        Assert.Contains($"its process group {pid} still has 1 process(es): SIGTERM", SupervisorLines(log));
        await WaitUntilAsync(() => process.Status.State == NodeProcessState.BackingOff, TimeSpan.FromSeconds(15), "backing off");
    }

    [Fact]
    public async Task AMissingExecutableIsAnErrorAndBacksOffWithoutSpinning()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var program = "/nonexistent-" + Box.Token + "/zebra";
        var process = Start(ns, [program, "-d"], Fast with { InitialBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(400) });

        var status = process.Status;
        Assert.Equal(NodeProcessState.BackingOff, status.State);
        Assert.Null(status.Pid);
        Assert.Null(status.StartedAt);
        Assert.Equal($"start {program}: ENOENT (No such file or directory)", status.LastError);

        // Waits of 0.1, 0.2, 0.4, 0.4 ... s: about five tries in 1.5 s, not thousands.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        status = process.Status;
        var tries = SupervisorLines(log).Count(l => l == $"cannot start: start {program}: ENOENT (No such file or directory)");
        Assert.InRange(status.Restarts, 3, 6);
        Assert.InRange(tries, status.Restarts, status.Restarts + 1);
        Assert.Equal(status.LastError, process.Status.LastError);
        Assert.NotNull(status.NextStartAt);

        await process.StopAsync();
        Assert.Equal(NodeProcessState.Stopped, process.Status.State);
    }

    [Fact]
    public async Task AFileThatIsNotExecutableIsEacces()
    {
        var ns = Box.CreateNamespace("n");
        var plain = Path.Combine(Dir, "plain.sh");
        await File.WriteAllTextAsync(plain, "#!/bin/sh\necho never\n");
        var process = Start(ns, [plain]);
        Assert.Equal(NodeProcessState.BackingOff, process.Status.State);
        Assert.Equal($"start {plain}: EACCES (Permission denied)", process.Status.LastError);
    }

    [Fact]
    public async Task ARelativeProgramStartsFromTheWorkingDirectoryWithTheGivenEnvironment()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var script = Path.Combine(Dir, "run.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho \"cwd $(pwd)\"\necho \"var $AET_VAR\"\nexec sleep 1000\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var spec = new NodeProcessSpec(["./run.sh"], log) { WorkingDirectory = Dir, Environment = new Dictionary<string, string> { ["AET_VAR"] = Box.Token } };
        var process = Box.Own(NodeProcess.Start(ns, spec, Fast));
        Assert.Equal(NodeProcessState.Running, process.Status.State);
        await WaitUntilAsync(() => Lines(log).Contains("var " + Box.Token), TimeSpan.FromSeconds(30), "the script's output");
        Assert.Contains("cwd " + Dir, Lines(log));
    }

    [Fact]
    public async Task SupervisionGivesUpWhenTheNamespaceIsDeleted()
    {
        var ns = Box.CreateNamespace("n");
        var log = LogOf("node");
        var process = Start(ns, ["sh", "-c", "sleep 0.3; exit 1"]);
        await Ip.RunAsync("netns", "del", ns.Name!);
        await process.Stopped.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(NodeProcessState.Stopped, process.Status.State);
        Assert.Equal(0, process.Status.Restarts);
        Assert.StartsWith($"namespace {ns.Name} is gone (open namespace {ns.Name}: ENOENT", process.Status.LastError, StringComparison.Ordinal);
        Assert.Contains(SupervisorLines(log), l => l.StartsWith("not restarted: namespace", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSupervisorStopsEveryNodeOfALab()
    {
        var ns = Box.CreateNamespace("n");
        await using var supervisor = new ProcessSupervisor(Fast);
        var lab = Box.Token;
        var pids = new List<int>();
        foreach (var node in new[] { "r1", "r2", "r3" })
        {
            var process = supervisor.Start(new NodeProcessKey(lab, node), ns, new NodeProcessSpec(["sleep", "1000"], LogOf(node)));
            pids.Add(process.Status.Pid!.Value);
        }

        var other = supervisor.Start(new NodeProcessKey(lab + "x", "r1"), ns, new NodeProcessSpec(["sleep", "1000"], LogOf("other")));
        Assert.Throws<InvalidOperationException>(() => supervisor.Start(new NodeProcessKey(lab, "r1"), ns, new NodeProcessSpec(["true"], LogOf("dup"))));
        Assert.Equal(4, supervisor.Statuses().Count);
        Assert.All(supervisor.Statuses().Values, s => Assert.Equal(NodeProcessState.Running, s.State));

        await supervisor.StopLabAsync(lab);
        Assert.All(pids, pid => Assert.True(IsGone(pid)));
        Assert.Equal([new NodeProcessKey(lab + "x", "r1")], supervisor.Statuses().Keys);
        Assert.Null(supervisor.Find(new NodeProcessKey(lab, "r1")));

        var otherPid = other.Status.Pid!.Value;
        await supervisor.DisposeAsync();
        Assert.True(IsGone(otherPid));
        Assert.Equal(NodeProcessState.Stopped, other.Status.State);
    }

    [Fact]
    public async Task TheSupervisorStartsALabNodeInItsNamedNamespace()
    {
        var ns = Box.CreateNamespace("n");
        var state = Path.Combine(Dir, "state");
        var labFile = Path.Combine(Dir, "lab.yaml");
        var node = new LabNode("r1", "linux", ns.Name!) { Exec = ["sh", "-c", "echo \"in $(pwd)\"; exec sleep 1000"] };
        var lab = new LabSpec(Box.Token) { Nodes = [node, new LabNode("r2", "linux", ns.Name!)], SourcePath = labFile };

        await using var supervisor = new ProcessSupervisor(Fast);
        Assert.Null(supervisor.Start(lab, lab.Nodes[1], state)); // no exec, no process
        var process = supervisor.Start(lab, node, state)!;
        var log = Path.Combine(state, "labs", Box.Token, "r1.log");
        Assert.Equal(log, process.Spec.LogPath);
        await WaitUntilAsync(() => Lines(log).Contains("in " + Dir), TimeSpan.FromSeconds(30), "the node's output in STATE/labs/LAB/r1.log");
        Assert.Equal(ns.Inode, NetInodeOf(process.Status.Pid!.Value));
    }

    private static string Message(string line) => line[(line.IndexOf(" aether: ", StringComparison.Ordinal) + 9)..];

    /// <summary>The times the runs printed (<c>date +%s.%N</c>), in seconds.</summary>
    private static double[] Starts(string log) =>
        [.. Lines(log).Where(l => StartLine().IsMatch(l)).Select(l => double.Parse(l, CultureInfo.InvariantCulture))];

    private static double[] Gaps(double[] starts) => [.. starts.Zip(starts.Skip(1), (a, b) => (b - a) * 1000)];

    /// <summary>Each gap between runs is at least the expected wait and not much more (the machine is shared).</summary>
    private static void AssertGaps(double[] expectedMs, double[] gapsMs, string what)
    {
        Assert.Equal(expectedMs.Length, gapsMs.Length);
        for (var i = 0; i < expectedMs.Length; i++)
        {
            Assert.True(gapsMs[i] >= expectedMs[i] - 30 && gapsMs[i] <= expectedMs[i] + 350,
                $"{what}: gap {i + 1} was {gapsMs[i]:0} ms, expected {expectedMs[i]} ms (all: {string.Join(", ", gapsMs.Select(g => g.ToString("0", CultureInfo.InvariantCulture)))})");
        }
    }

    private static string SysMount() => File.ReadAllLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == "/sys");

    [GeneratedRegex(@"^\d{10}\.\d{9}$")]
    private static partial Regex StartLine();

    [GeneratedRegex(@"^pid \d+ exited: ")]
    private static partial Regex ExitedLine();
}
