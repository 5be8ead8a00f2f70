using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.Netlink.Namespaces;

namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether ns watch</c> and <c>ns list --all</c>, the real binary against the kernel.
/// <para>
/// The "directory does not exist yet" steps use <c>ip netns add</c> itself, so they need a /run without
/// <c>netns</c> in it, and the machine's own /run/netns must never be removed. They run <c>aether ns watch</c> in a
/// private mount namespace with a fresh tmpfs over /run (<c>unshare --mount --propagation private sh -c 'mount -t
/// tmpfs tmpfs /run &amp;&amp; exec aether ns watch'</c>), and drive each step with <c>nsenter --mount</c> into it.
/// The watcher runs as the shipped command there rather than as a test helper: it is the program users run, its
/// JSON lines are the contract, and a test process cannot safely unshare its own mount namespace (its thread pool
/// would be split between two views of the file system).
/// </para>
/// </summary>
public sealed class WatchTests : SandboxTest
{
    [Fact]
    public async Task Ns_watch_prints_created_and_deleted_with_inodes_on_run_netns()
    {
        await using var watch = WatchProcess.Start(Cli.BinaryPath, "ns", "watch");
        var ready = await watch.WaitForAsync(l => Event(l) == "ready", "ready");
        Assert.True(ready.GetProperty("directoryExists").GetBoolean());

        var name = await Box.CreateNamespaceWithIpAsync("a");
        var created = await watch.WaitForAsync(l => Event(l) == "created" && Name(l) == name, "created " + name);
        var inode = await Ip.InodeInsideAsync(name);
        Assert.Equal(inode, created.GetProperty("inode").GetUInt64());
        Assert.Equal("/run/netns/" + name, created.GetProperty("path").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", created.GetProperty("time").GetString());

        await Ip.RunAsync("netns", "del", name);
        var deleted = await watch.WaitForAsync(l => Event(l) == "deleted" && Name(l) == name, "deleted " + name);
        Assert.Equal(inode, deleted.GetProperty("inode").GetUInt64());

        Assert.Equal(0, await watch.StopAsync());
        Assert.Equal(["created", "deleted"], watch.Lines.Where(l => Name(l)?.StartsWith(Box.Token, StringComparison.Ordinal) == true).Select(Event));
    }

    [Fact]
    public async Task Six_steps_with_ip_netns_when_run_netns_does_not_exist_then_it_is_removed_and_made_again()
    {
        await using var watch = WatchProcess.Start("unshare", "--mount", "--propagation", "private", "sh", "-c", $"mount -t tmpfs tmpfs /run && exec '{Cli.BinaryPath}' ns watch");
        var inside = new Inside(watch.Pid);
        try
        {
            // 1: a fresh /run: no netns directory.
            var ready = await watch.WaitForAsync(l => Event(l) == "ready", "ready");
            Assert.False(ready.GetProperty("directoryExists").GetBoolean());
            Assert.Single(watch.Lines);

            // 2: the first namespace, which makes the directory.
            string n1 = Box.Name("a"), n2 = Box.Name("b"), n3 = Box.Name("c");
            await inside.RunAsync("ip", "netns", "add", n1);
            var created1 = await watch.WaitForAsync(l => Event(l) == "created" && Name(l) == n1, "created " + n1);
            Assert.Equal(await inside.InodeAsync(n1), created1.GetProperty("inode").GetUInt64());

            // 3: a second.
            await inside.RunAsync("ip", "netns", "add", n2);
            var created2 = await watch.WaitForAsync(l => Event(l) == "created" && Name(l) == n2, "created " + n2);
            Assert.Equal(await inside.InodeAsync(n2), created2.GetProperty("inode").GetUInt64());

            // 4-5: delete one, then the last.
            await inside.RunAsync("ip", "netns", "del", n1);
            await watch.WaitForAsync(l => Event(l) == "deleted" && Name(l) == n1, "deleted " + n1);
            await inside.RunAsync("ip", "netns", "del", n2);
            await watch.WaitForAsync(l => Event(l) == "deleted" && Name(l) == n2, "deleted " + n2);

            // 6: re-create under the first name: another namespace (the kernel may give it the freed inode number again
            // once the first is gone; the deleted line before it is what tells them apart).
            await inside.RunAsync("ip", "netns", "add", n1);
            var recreated = await watch.WaitForAsync(l => Event(l) == "created" && Name(l) == n1, "created " + n1 + " again", nth: 2);
            Assert.Equal(await inside.InodeAsync(n1), Inode(recreated));

            // The directory removed while watched, then made again by the next ip netns add.
            await inside.RunAsync("sh", "-c", $"ip netns del {n1} && umount /run/netns && rmdir /run/netns");
            await watch.WaitForAsync(l => Event(l) == "directoryRemoved", "directoryRemoved");
            await inside.RunAsync("ip", "netns", "add", n3);
            await watch.WaitForAsync(l => Event(l) == "created" && Name(l) == n3, "created " + n3);
            await inside.RunAsync("ip", "netns", "del", n3);
            await watch.WaitForAsync(l => Event(l) == "deleted" && Name(l) == n3, "deleted " + n3);

            Assert.Equal(0, await watch.StopAsync());
            Assert.Equal(
                [
                    "ready", "directoryCreated", $"created {n1}", $"created {n2}", $"deleted {n1}", $"deleted {n2}", $"created {n1}",
                    $"deleted {n1}", "directoryRemoved", "directoryCreated", $"created {n3}", $"deleted {n3}",
                ],
                watch.Lines.Select(l => $"{Event(l)} {Name(l)}".Trim()));
            Assert.All(watch.Lines.Where(l => Event(l)!.StartsWith("directory", StringComparison.Ordinal)), l => Assert.Equal("/run/netns", l.GetProperty("path").GetString()));
        }
        finally
        {
            // Whatever a failed step left: the mount namespace ends with the watcher and takes its mounts along.
            await watch.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ns_list_all_shows_unnamed_namespaces_with_their_pids()
    {
        using var ns = NetworkNamespace.Create(Box.Name("n"));
        Box.TrackNamespace(ns.Name!);
        using var holder = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "300"]))!;
        try
        {
            var inode = await UnnamedInodeAsync(holder.Id);
            var json = await Cli.RunAsync("ns", "list", "--all", "-o", "json");
            Assert.True(json.Code == 0, json.ToString());
            using var doc = JsonDocument.Parse(json.Stdout);
            var entries = doc.RootElement.EnumerateArray().ToList();
            var unnamed = Assert.Single(entries, e => e.GetProperty("inode").GetUInt64() == inode);
            Assert.False(unnamed.TryGetProperty("name", out _));
            Assert.Contains(holder.Id, unnamed.GetProperty("pids").EnumerateArray().Select(p => p.GetInt32()));
            var named = Assert.Single(entries, e => e.TryGetProperty("name", out var n) && n.GetString() == ns.Name);
            Assert.Equal(ns.Inode, named.GetProperty("inode").GetUInt64());

            var text = await Cli.RunAsync("ns", "list", "--all");
            Assert.Contains(text.Stdout.Split('\n'), l => l.StartsWith("(unnamed)", StringComparison.Ordinal) && l.Contains(inode.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                && l.Contains(holder.Id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

            // Without --all: names only, as before.
            var plain = await Cli.RunAsync("ns", "list");
            Assert.DoesNotContain("(unnamed)", plain.Stdout, StringComparison.Ordinal);
            Assert.Contains(ns.Name!, plain.Stdout.Split('\n'));
        }
        finally
        {
            holder.Kill();
            await holder.WaitForExitAsync();
        }
    }

    private static string? Event(JsonElement line) => line.GetProperty("event").GetString();

    private static string? Name(JsonElement line) => line.TryGetProperty("name", out var n) ? n.GetString() : null;

    private static ulong Inode(JsonElement line) => line.GetProperty("inode").GetUInt64();

    private static async Task<ulong> UnnamedInodeAsync(int pid)
    {
        var own = new FileInfo("/proc/self/ns/net").LinkTarget;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); // unshare may wait on the kernel's namespace lock
        while (DateTime.UtcNow < deadline)
        {
            var link = new FileInfo($"/proc/{pid}/ns/net").LinkTarget;
            if (link is not null && link != own && (await File.ReadAllTextAsync($"/proc/{pid}/comm")).Trim() == "sleep")
            {
                return Ip.ParseNsLink(link);
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException("the holder never got a namespace of its own");
    }

    /// <summary>Runs commands in the mount namespace of a process (<c>nsenter --mount</c>).</summary>
    private sealed class Inside(int pid)
    {
        public async Task<string> RunAsync(params string[] command)
        {
            var (code, stdout, stderr) = await Ip.ExecAsync("nsenter", [$"--mount=/proc/{pid}/ns/mnt", "--", .. command]);
            if (code != 0)
            {
                throw new InvalidOperationException($"nsenter ... {string.Join(' ', command)} exited {code}: {stderr.Trim()}");
            }

            return stdout;
        }

        /// <summary>The inode of namespace <paramref name="name"/> as <c>stat</c> sees its entry there.</summary>
        public async Task<ulong> InodeAsync(string name) =>
            ulong.Parse((await RunAsync("stat", "-c", "%i", "/run/netns/" + name)).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>A running <c>aether ns watch</c> (possibly under another program), its stdout parsed line by line.</summary>
    private sealed class WatchProcess : IAsyncDisposable
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
        private readonly Process _process;
        private readonly List<JsonElement> _lines = [];
        private readonly StringBuilder _raw = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _disposed;

        private WatchProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => Add(e.Data, stdout: true);
            _process.ErrorDataReceived += (_, e) => Add(e.Data, stdout: false);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid => _process.Id;

        public List<JsonElement> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public static WatchProcess Start(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program, args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            return new WatchProcess(Process.Start(psi)!);
        }

        /// <summary>Waits for the <paramref name="nth"/> line that matches, and returns it.</summary>
        public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what, int nth = 1)
        {
            using var timeout = new CancellationTokenSource(Patience);
            while (true)
            {
                Task changed;
                lock (_lines)
                {
                    var seen = 0;
                    foreach (var line in _lines)
                    {
                        if (match(line) && ++seen == nth)
                        {
                            return line;
                        }
                    }

                    if (_process.HasExited)
                    {
                        throw new Xunit.Sdk.XunitException($"ns watch exited ({_process.ExitCode}) before {what}:\n{_raw}");
                    }

                    changed = _changed.Task;
                }

                try
                {
                    await changed.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException ex)
                {
                    lock (_lines)
                    {
                        throw new Xunit.Sdk.XunitException($"timed out waiting for {what}:\n{_raw}", ex);
                    }
                }
            }
        }

        /// <summary>SIGTERM, then the exit code.</summary>
        public async Task<int> StopAsync()
        {
            Cli.Terminate(_process);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Add(string? data, bool stdout)
        {
            if (data is null)
            {
                return;
            }

            lock (_lines)
            {
                _raw.AppendLine((stdout ? string.Empty : "stderr: ") + data);
                if (stdout && data.StartsWith('{'))
                {
                    using var doc = JsonDocument.Parse(data);
                    _lines.Add(doc.RootElement.Clone());
                }

                var changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed.TrySetResult();
            }
        }
    }
}
