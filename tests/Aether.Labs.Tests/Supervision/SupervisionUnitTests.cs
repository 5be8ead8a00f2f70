using Aether.Labs.Supervision;
using Aether.Netlink;

namespace Aether.Labs.Tests.Supervision;

/// <summary>The supervisor's logic without processes: backoff, wait statuses, /proc parsing, log lines, where a node's
/// command starts and logs, and how a program is found.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SupervisionUnitTests
{
    [Fact]
    public void BackoffDoublesToTheCapAndResetsAfterALongRun()
    {
        var backoff = new Backoff(SupervisionPolicy.Default);
        var crashes = Enumerable.Range(0, 8).Select(_ => backoff.After(TimeSpan.FromSeconds(1)).TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], crashes);

        // A run of 10 s or more starts over; the next short one doubles again.
        Assert.Equal(1, backoff.After(TimeSpan.FromSeconds(10)).TotalSeconds);
        Assert.Equal(2, backoff.After(TimeSpan.FromSeconds(9.9)).TotalSeconds);

        // A start that failed is a run of no time.
        Assert.Equal(4, backoff.After(TimeSpan.Zero).TotalSeconds);
    }

    [Fact]
    public void BackoffCapIsExactWhenNotAPowerOfTwo()
    {
        var backoff = new Backoff(new SupervisionPolicy { InitialBackoff = TimeSpan.FromMilliseconds(300), MaxBackoff = TimeSpan.FromMilliseconds(1000) });
        Assert.Equal([300, 600, 1000, 1000], Enumerable.Range(0, 4).Select(_ => backoff.After(TimeSpan.Zero).TotalMilliseconds));
    }

    [Fact]
    public void PolicyValidation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SupervisionPolicy { InitialBackoff = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SupervisionPolicy { MaxBackoff = TimeSpan.FromMilliseconds(500) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SupervisionPolicy { StopGrace = TimeSpan.FromSeconds(-1) }.Validate());
        SupervisionPolicy.Default.Validate();
    }

    [Theory]
    [InlineData(0x0000, 0, null, "exit status 0")] // exit(0)
    [InlineData(0x0300, 3, null, "exit status 3")] // exit(3): WEXITSTATUS in bits 8-15
    [InlineData(0xff00, 255, null, "exit status 255")]
    [InlineData(0x000f, null, 15, "signal 15 (SIGTERM)")] // killed by SIGTERM
    [InlineData(0x0089, null, 9, "signal 9 (SIGKILL)")] // SIGKILL with the core-dump bit (0x80)
    [InlineData(0x0086, null, 6, "signal 6 (SIGABRT)")]
    [InlineData(0x0022, null, 34, "signal 34 (SIG34)")] // a real-time signal
    public void WaitStatus(int status, int? code, int? signal, string text)
    {
        var exit = ProcessExit.FromWaitStatus(status);
        Assert.Equal(code, exit.Code);
        Assert.Equal(signal, exit.Signal);
        Assert.Equal(text, exit.ToString());
    }

    [Fact]
    public void UnknownExit() => Assert.Equal("exit status unknown", new ProcessExit(null, null).ToString());

    [Theory]
    [InlineData("4242 (sleep) S 4200 4200 4200 0 -1 4194304", 'S', 4200)]
    [InlineData("77 (a b) (c)) Z 1 76 76 0 -1", 'Z', 76)] // a command name with spaces and parentheses
    [InlineData("1 (init) R 0 1 1 0", 'R', 1)]
    public void ProcStatLines(string line, char state, int group)
    {
        Assert.True(ProcStat.TryParse(line, out var s, out var g));
        Assert.Equal(state, s);
        Assert.Equal(group, g);
    }

    [Theory]
    [InlineData("no parenthesis")]
    [InlineData("1 (x) S 0")]
    [InlineData("1 (x) SS 0 1")]
    public void ProcStatRejects(string line) => Assert.False(ProcStat.TryParse(line, out _, out _));

    [Fact]
    public void ProcStatFindsThisProcessInItsGroup()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        Assert.True(ProcStat.TryParse(stat, out var state, out var group));
        Assert.NotEqual('Z', state);
        Assert.Contains(Environment.ProcessId, ProcStat.LivingMembers(group));
    }

    [Fact]
    public void LogLineFormat()
    {
        var at = new DateTimeOffset(2026, 12, 6, 3, 4, 5, 678, TimeSpan.FromHours(2));
        Assert.Equal("2026-12-06T01:04:05.678Z aether: started pid 7\n", NodeLog.Line(at, "started pid 7"));
    }

    [Fact]
    public void NodeSpecStartsInTheLabFilesDirectoryAndLogsUnderState()
    {
        var node = new LabNode("r1", "linux", "frr-r1") { Exec = ["frr/run-frr.sh", "frr/r1"] };
        var lab = new LabSpec("frr") { Nodes = [node], SourcePath = "/srv/labs/frr-ospf.yaml" };
        var spec = NodeProcessSpec.ForNode(lab, node, "/var/lib/aether");
        Assert.Equal(["frr/run-frr.sh", "frr/r1"], spec.Argv);
        Assert.Equal("/srv/labs", spec.WorkingDirectory);
        Assert.Equal("/var/lib/aether/labs/frr/r1.log", spec.LogPath);
        Assert.True(spec.PrivateSys);

        // A lab not read from a file starts in this process's directory.
        Assert.Null(NodeProcessSpec.ForNode(lab with { SourcePath = null }, node, "/s").WorkingDirectory);
        Assert.Throws<ArgumentException>(() => NodeProcessSpec.ForNode(lab, node with { Exec = [] }, "/s"));
        Assert.Throws<ArgumentException>(() => new NodeProcessSpec([], "/x.log"));
        Assert.Throws<ArgumentException>(() => new NodeProcessSpec(["a\0b"], "/x.log"));
    }

    [Fact]
    public void ResolveFindsProgramsLikeExecvp()
    {
        var dir = Directory.CreateTempSubdirectory("aetresolve").FullName;
        try
        {
            var script = Path.Combine(dir, "run.sh");
            File.WriteAllText(script, "#!/bin/sh\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var plain = Path.Combine(dir, "plain");
            File.WriteAllText(plain, "");

            Assert.Equal(script, NodeSpawner.Resolve("./run.sh", dir, "/usr/bin"));
            Assert.Equal(script, NodeSpawner.Resolve(script, null, ""));
            Assert.Equal(script, NodeSpawner.Resolve("run.sh", null, "/nonexistent:" + dir));
            Assert.Equal("/usr/bin/sh", NodeSpawner.Resolve("sh", null, "/usr/bin:/bin"));

            // Root may execute anything with an x bit, so EACCES comes from a file without one, or a directory.
            Assert.Equal(Errno.EACCES, Assert.Throws<NetlinkException>(() => NodeSpawner.Resolve("./plain", dir, "")).Errno);
            Assert.Equal(Errno.EACCES, Assert.Throws<NetlinkException>(() => NodeSpawner.Resolve("plain", null, dir)).Errno);
            Assert.Equal(Errno.EACCES, Assert.Throws<NetlinkException>(() => NodeSpawner.Resolve(dir, null, "")).Errno);
            var missing = Assert.Throws<NetlinkException>(() => NodeSpawner.Resolve("./nope", dir, ""));
            Assert.Equal(Errno.ENOENT, missing.Errno);
            Assert.Equal("start ./nope: ENOENT (No such file or directory)", missing.Message);
            Assert.Equal(Errno.ENOENT, Assert.Throws<NetlinkException>(() => NodeSpawner.Resolve("aet-no-such-program", null, "/usr/bin:/bin")).Errno);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CommandLineWrapsTheCommandForItsOwnSys()
    {
        var spec = new NodeProcessSpec(["sleep", "5"], "/x.log");
        var (path, argv) = NodeSpawner.CommandLine(spec);
        Assert.EndsWith("/unshare", path, StringComparison.Ordinal);
        Assert.Equal(["unshare", "--mount", "--propagation", "slave", "--", "/bin/sh", "-c", NodeSpawner.PrivateSysScript, "aether-sys"], argv.Take(9));
        Assert.EndsWith("/sleep", argv[9], StringComparison.Ordinal);
        Assert.Equal("5", argv[10]);

        var (plainPath, plainArgv) = NodeSpawner.CommandLine(spec with { PrivateSys = false });
        Assert.EndsWith("/sleep", plainPath, StringComparison.Ordinal);
        Assert.Equal(["sleep", "5"], plainArgv);

        var missingDir = Assert.Throws<NetlinkException>(() => NodeSpawner.CommandLine(spec with { WorkingDirectory = "/nonexistent-aet" }));
        Assert.Equal(Errno.ENOENT, missingDir.Errno);
    }
}
