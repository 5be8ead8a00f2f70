using System.Diagnostics;
using System.Text;

namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether apply</c>, <c>diff</c>, <c>destroy</c> and <c>aether lab deploy</c> given a file that is not a small
/// regular UTF-8 definition (a FIFO, a device, a directory, a file over 4 MiB, bytes that are not UTF-8, YAML that
/// exhausts the parser): exit 2 at once with the file, the position and the limit, and nothing changed (no namespace or
/// link with the test's token, no state written), checked with <c>ip -j</c> and the state directory.
/// </summary>
public sealed class HostileFileTests : CliTest
{
    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    private string Fifo(string name)
    {
        var path = Path.Combine(Dir, name);
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]))!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>The files to try, each with what its one error must say (after <c>FILE:LINE:COLUMN: </c>).</summary>
    private (string File, string Position, string Message) Case(string which)
    {
        const string NotRegular = ", not a regular file; a definition is read from a regular file of at most 4194304 bytes";
        const string Deep = "nested deeper than 64 levels of mappings and lists (the limit)";
        var named = $"name: {Box.Token}\nnamespaces:\n  - name: {Ns}\n";
        return which switch
        {
            "fifo" => (Fifo("topo.fifo"), "1:1", "cannot read the file: it is a FIFO (named pipe)" + NotRegular),
            "/dev/zero" => ("/dev/zero", "1:1", "cannot read the file: it is a character device" + NotRegular),
            "/dev/urandom" => ("/dev/urandom", "1:1", "cannot read the file: it is a character device" + NotRegular),
            "directory" => (Dir, "1:1", "cannot read the file: it is a directory" + NotRegular),
            "5 MiB" => (Write("big.yaml", named + "#" + new string('x', 5 * 1024 * 1024)), "1:1",
                $"cannot read the file: it is {named.Length + 1 + (5 * 1024 * 1024) + 1} bytes, over the limit of 4194304 bytes (4 MiB)"),
            "latin-1" => (WriteBytes("latin1.yaml", [.. Encoding.UTF8.GetBytes(named + "#caf"), 0xE9, (byte)'\n']), "4:5",
                $"not UTF-8: byte 0xE9 at byte offset {named.Length + 4} (line 4, column 5); definitions are UTF-8 text"),
            "deep lists" => (Write("deep.yaml", named + "links: " + Repeat("[", 10_000) + Repeat("]", 10_000)), "4:71", Deep),
            "deep maps" => (Write("deep.yaml", named + "links: " + Repeat("{a: ", 10_000) + "1" + Repeat("}", 10_000)), "4:", Deep),
            "billion laughs" => (Write("laughs.yaml", named + Laughs()), "", "more than 250000 nodes (the limit; an alias counts the nodes it stands for each time it is used)"),
            _ => (Write("long.yaml", named + "links:\n  - name: \"" + new string('x', 70_000) + "\"\n"), "5:11", "a scalar of 70000 characters, over the limit of 65536"),
        };
    }

    private static string Laughs()
    {
        var yaml = new StringBuilder("routes:\n  - &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for (var c = 'b'; c <= 'j'; c++)
        {
            yaml.Append("  - &").Append(c).Append(" [").AppendJoin(',', Enumerable.Repeat($"*{(char)(c - 1)}", 10)).Append("]\n");
        }

        return yaml.ToString();
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(Dir, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public static TheoryData<string> Cases => new()
    {
        "fifo", "/dev/zero", "/dev/urandom", "directory", "5 MiB", "latin-1", "deep lists", "deep maps", "billion laughs", "long scalar",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_topology_file_beyond_the_limits_exits_2_and_changes_nothing(string which)
    {
        var (file, position, message) = Case(which);
        var before = await SnapshotAsync();
        foreach (var command in new[] { "apply", "diff", "destroy" })
        {
            var watch = Stopwatch.StartNew();
            var result = await AetherAsync(command, file);
            Assert.True(result.Code == 2, command + ": " + result);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"{command} took {watch.Elapsed}");
            Assert.Equal(string.Empty, result.Stdout);
            var line = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith(file + ":", StringComparison.Ordinal));
            Assert.StartsWith(file + ":" + position, line, StringComparison.Ordinal);
            Assert.EndsWith(": " + message, line, StringComparison.Ordinal);
        }

        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(Dir, "state")), "the state directory was written");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_lab_file_beyond_the_limits_exits_2_and_changes_nothing(string which)
    {
        var (file, _, message) = Case(which);
        var state = Path.Combine(Dir, "labstate");
        var before = await SnapshotAsync();
        foreach (var command in new[] { "deploy", "destroy" })
        {
            var result = await Cli.RunAsync("lab", "--state-dir", state, command, "-f", file);
            Assert.True(result.Code == 2, command + ": " + result);
            Assert.Contains(": " + message + "\n", result.Stderr, StringComparison.Ordinal);
            Assert.Contains($"aether: {file}: invalid lab, nothing was touched", result.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(state), "the lab state directory was written");
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    [InlineData("directory")]
    [InlineData("billion laughs")]
    public async Task A_profiles_file_beyond_the_limits_exits_2_and_changes_nothing(string which)
    {
        var (profiles, _, message) = Case(which);
        var lab = Write("lab.yaml", $"name: {Box.Token}\nnodes:\n  r1: {{ kind: linux }}\n");
        var state = Path.Combine(Dir, "labstate");
        var result = await Cli.RunAsync("lab", "--state-dir", state, "--profiles", profiles, "deploy", "-f", lab);
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains(": " + message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"aether: {profiles}: invalid profiles", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(state), "the lab state directory was written");
    }

    [Fact]
    public async Task Standard_input_as_a_pipe_is_refused_and_changes_nothing()
    {
        // A valid topology on a pipe: still refused, since a pipe can be endless.
        var before = await SnapshotAsync();
        var result = await Cli.RunWithInputAsync(CtlYaml() + "\n", "apply", "-f", "/dev/stdin", "--state-dir", Path.Combine(Dir, "state"));
        Assert.True(result.Code == 2, result.ToString());
        Assert.Equal(
            "/dev/stdin:1:1: cannot read the file: it is a FIFO (named pipe), not a regular file; a definition is read from a regular file of at most 4194304 bytes",
            Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith("/dev/stdin:", StringComparison.Ordinal)));
        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.Contains(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(Dir, "state")), "the state directory was written");
    }
}
