using System.Globalization;
using Aether.Labs.Supervision;
using Aether.Netlink.Namespaces;

namespace Aether.Labs.Tests.Supervision;

/// <summary>A test that supervises processes: a temp directory of its own (named with the sandbox token) for logs and
/// scripts, processes owned by the sandbox (stopped before the namespaces go, even when the test fails), and waits
/// that poll with a deadline.</summary>
public abstract class NodeProcessTest : SandboxTest
{
    /// <summary>Short waits, so that restarts and stops happen within a test.</summary>
    protected static readonly SupervisionPolicy Fast = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(200),
        MaxBackoff = TimeSpan.FromMilliseconds(800),
        ResetAfter = TimeSpan.FromSeconds(10),
        StopGrace = TimeSpan.FromSeconds(2),
    };

    protected string Dir { get; private set; } = null!;

    protected override Task SetUpAsync()
    {
        Dir = Box.Own(new TempDirectory(Box.Token)).Path;
        return Task.CompletedTask;
    }

    /// <summary>Starts <paramref name="argv"/> in <paramref name="ns"/>, logging to <c>DIR/NAME.log</c>; stopped at the
    /// end of the test.</summary>
    protected NodeProcess Start(NetworkNamespace ns, string[] argv, SupervisionPolicy? policy = null, string name = "node", bool privateSys = true) =>
        Box.Own(NodeProcess.Start(ns, new NodeProcessSpec(argv, LogOf(name)) { PrivateSys = privateSys }, policy ?? Fast));

    protected string LogOf(string name) => Path.Combine(Dir, name + ".log");

    protected static string[] Lines(string log) => File.Exists(log) ? File.ReadAllLines(log) : [];

    /// <summary>The supervisor's own lines (<c>TIME aether: MESSAGE</c>), messages only.</summary>
    protected static string[] SupervisorLines(string log) =>
        [.. Lines(log).Where(l => l.Contains(" aether: ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(" aether: ", StringComparison.Ordinal) + 9)..])];

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds; fails with <paramref name="what"/> after
    /// <paramref name="timeout"/>.</summary>
    protected static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not within {timeout.TotalSeconds:0.#} s: {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Whether pid is gone: no /proc entry, or a zombie waiting for its parent.</summary>
    protected static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The inode of a process's network namespace, read from its <c>/proc/PID/ns/net</c> link.</summary>
    protected static ulong NetInodeOf(int pid) =>
        Ip.ParseNsLink(new FileInfo($"/proc/{pid}/ns/net").LinkTarget ?? throw new InvalidOperationException($"no /proc/{pid}/ns/net"));

    /// <summary>The number on the first log line that starts with <paramref name="prefix"/> (<c>grandchild 4242</c>).</summary>
    protected static int? NumberAfter(string log, string prefix)
    {
        var line = Lines(log).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : int.Parse(line[prefix.Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
