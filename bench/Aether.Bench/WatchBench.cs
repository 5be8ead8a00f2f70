using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Bench;

/// <summary>
/// Namespace discovery latency: from <c>ip netns add</c> returning (its exit, seen through a pidfd) to the report, for
/// the NamespaceWatcher, <c>inotifywait</c> on the same directory and a 1 s poll of it, side by side on the same
/// namespaces; with /run/netns present at start, and absent (removed again before every trial, so every trial goes
/// through the watch on /run and the switch). Each case runs in a private mount namespace with a fresh tmpfs on /run,
/// so the machine's own /run/netns is never touched and other users' namespaces do not disturb it. Every report is
/// checked on the spot: is the entry an nsfs mount yet (usable), or still the plain file <c>ip</c> makes first? Then
/// the watcher's wake-ups while idle.
/// </summary>
internal static class WatchBench
{
    private const string Directory = "/run/netns";

    public static async Task<int> RunAsync(int trials, int idleSeconds)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var inotify = Which("inotifywait") is not null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"watch-latency: {trials} trials a case; latency from `ip netns add` exiting to the report, ms (negative: before ip exited)"));
        if (!inotify)
        {
            Console.WriteLine("inotifywait: not installed (apt-get install inotify-tools); its column is left out");
        }

        Console.WriteLine($"{"case",-9} {"observer",-28} {"p50",8} {"p99",8} {"max",8} {"missed",7} {"before usable",14}");
        foreach (var @case in new[] { "present", "absent" })
        {
            var code = await ChildAsync(self, ["watch-latency-case", "--case", @case, "--trials", trials.ToString(CultureInfo.InvariantCulture), "--idle", idleSeconds.ToString(CultureInfo.InvariantCulture)]);
            if (code != 0)
            {
                return code;
            }
        }

        return 0;
    }

    /// <summary>One case, inside a private mount namespace whose /run is a fresh tmpfs.</summary>
    public static async Task<int> RunCaseAsync(string @case, int trials, int idleSeconds)
    {
        var absent = @case == "absent";
        if (!absent)
        {
            System.IO.Directory.CreateDirectory(Directory);
        }

        var prefix = "bw" + Guid.NewGuid().ToString("N")[..4];
        var observers = new List<Observer>();
        using var watcher = NamespaceWatcher.ListAndWatch();
        using var aether = new WatcherObserver(watcher);
        observers.Add(aether);
        using var inotify = Which("inotifywait") is null ? null : await InotifyObserver.StartAsync(absent);
        if (inotify is not null)
        {
            observers.Add(inotify);
        }

        using var poll = new PollObserver(TimeSpan.FromSeconds(1));
        observers.Add(poll);

        try
        {
            // One trial first that is not counted: the first run of every code path pays for JIT compilation.
            for (var i = -1; i < trials; i++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}{i + 1}");
                if (i < 0)
                {
                    foreach (var o in observers)
                    {
                        o.Counting = false;
                    }
                }
                else if (i == 0)
                {
                    foreach (var o in observers)
                    {
                        o.Counting = true;
                    }
                }

                poll.Rephase();
                var exited = await RunIpAsync("netns", "add", name);
                foreach (var o in observers)
                {
                    await o.WaitAsync(name, exited, o == poll ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromSeconds(2));
                }

                await RunIpAsync("netns", "del", name);
                if (absent)
                {
                    // Back to no directory: ip made it a mount of itself; undo that, remove it, and let the watcher
                    // see it go (so the next trial starts from watching /run again).
                    await RunAsync("umount", Directory);
                    System.IO.Directory.Delete(Directory);
                    await aether.WaitForDirectoryRemovedAsync(TimeSpan.FromSeconds(2));
                }

                await Task.Delay(5);
            }
        }
        finally
        {
            foreach (var name in NetworkNamespace.List().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
            {
                NetworkNamespace.Delete(name);
            }
        }

        foreach (var o in observers)
        {
            Console.WriteLine(o.Row(@case));
        }

        if (!absent && idleSeconds > 0)
        {
            await IdleAsync(watcher, idleSeconds, "default options (rescan 30 s)");
            using var unnamed = NamespaceWatcher.ListAndWatch(new NamespaceWatcherOptions { IncludeUnnamed = true });
            await IdleAsync(unnamed, idleSeconds, "with unnamed namespaces (nsid socket, mount table)");
        }

        return 0;
    }

    /// <summary>Counts the watcher thread's context switches (every wake-up is one) over an idle spell.</summary>
    private static async Task IdleAsync(NamespaceWatcher watcher, int seconds, string what)
    {
        await Task.Delay(200); // let it settle into poll
        var tid = watcher.ThreadId;
        var before = Switches(tid);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var after = Switches(tid);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle {seconds} s, watcher thread {tid}, {what}: {after - before} wake-ups"));
    }

    private static long Switches(int tid)
    {
        long total = 0;
        foreach (var line in File.ReadLines($"/proc/self/task/{tid}/status"))
        {
            if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
            {
                total += long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    /// <summary>Whether the entry is an nsfs mount now (what setns needs).</summary>
    private static bool Usable(string name)
    {
        var nsfs = Libc.Identify("/proc/self/ns/net", out var ns) == 0 ? ns : default;
        return Libc.Identify(Directory + "/" + name, out var id) == 0 && id.SameDevice(nsfs);
    }

    /// <summary>Runs ip and returns the Stopwatch timestamp of its exit (from a pidfd, not from .NET's child reaping).</summary>
    private static async Task<long> RunIpAsync(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", args) { UseShellExecute = false })!;
        var pidfd = Libc.PidfdOpen(p.Id, 0);
        long exited;
        if (pidfd >= 0)
        {
            exited = await Task.Factory.StartNew(() => WaitExit(pidfd), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Libc.Close(pidfd);
        }
        else
        {
            await p.WaitForExitAsync();
            exited = Stopwatch.GetTimestamp();
        }

        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? exited : throw new InvalidOperationException("ip " + string.Join(' ', args) + " failed");
    }

    private static unsafe long WaitExit(int pidfd)
    {
        var fd = new Libc.PollFd { Fd = pidfd, Events = Libc.POLLIN };
        while (Libc.Poll(&fd, 1, -1) < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }

        return Stopwatch.GetTimestamp();
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(program, args) { UseShellExecute = false })!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed");
        }
    }

    private static async Task<int> ChildAsync(string self, string[] args)
    {
        var psi = new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /run && exec \"$0\" \"$@\"", self, .. args]) { UseShellExecute = false };
        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        return p.ExitCode;
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>Something that reports namespace names as they appear, timestamped where it reports them.</summary>
    private abstract class Observer(string label) : IDisposable
    {
        private readonly ConcurrentDictionary<string, (long At, bool Usable)> _seen = new(StringComparer.Ordinal);
        private readonly List<double> _latencies = [];
        private int _missed;
        private int _early;

        /// <summary>Whether results count (not during the warm-up trial).</summary>
        public bool Counting { get; set; } = true;

        public async Task WaitAsync(string name, long exited, TimeSpan timeout)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (!_seen.ContainsKey(name) && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(1);
            }

            if (!Counting)
            {
                return;
            }

            if (_seen.TryGetValue(name, out var seen))
            {
                _latencies.Add((seen.At - exited) * 1000.0 / Stopwatch.Frequency);
                _early += seen.Usable ? 0 : 1;
            }
            else
            {
                _missed++;
            }
        }

        public string Row(string @case)
        {
            var sorted = _latencies.Order().ToList();
            if (Environment.GetEnvironmentVariable("AETHER_BENCH_TRACE") == "1")
            {
                Console.WriteLine(label + ": " + string.Join(' ', _latencies.Select(l => l.ToString("F2", CultureInfo.InvariantCulture))));
            }

            string P(double p) => sorted.Count == 0 ? "-" : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)].ToString("F2", CultureInfo.InvariantCulture);
            return $"{@case,-9} {label,-28} {P(0.50),8} {P(0.99),8} {P(1.0),8} {_missed,7} {_early,14}";
        }

        public abstract void Dispose();

        /// <summary>Records a report of <paramref name="name"/> now, checking at once whether it is usable.</summary>
        protected void Saw(string name)
        {
            var at = Stopwatch.GetTimestamp();
            _seen.TryAdd(name, (at, Usable(name)));
        }
    }

    /// <summary>The NamespaceWatcher, read on a thread of its own that blocks on the stream.</summary>
    private sealed class WatcherObserver : Observer
    {
        private readonly NamespaceWatcher _watcher;
        private readonly Thread _reader;
        private int _removed;

        public WatcherObserver(NamespaceWatcher watcher)
            : base("aether NamespaceWatcher")
        {
            _watcher = watcher;
            _reader = new Thread(Read) { IsBackground = true };
            _reader.Start();
        }

        public async Task WaitForDirectoryRemovedAsync(TimeSpan timeout)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref _removed) == 0 && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(1);
            }

            Volatile.Write(ref _removed, 0);
        }

        public override void Dispose()
        {
        }

        private void Read()
        {
            var events = _watcher.Events;
            while (events.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (events.TryRead(out var e))
                {
                    if (e is { Kind: NamespaceEventKind.Created, Name: { } name })
                    {
                        Saw(name);
                    }
                    else if (e.Kind == NamespaceEventKind.DirectoryRemoved)
                    {
                        Volatile.Write(ref _removed, 1);
                    }
                }
            }
        }
    }

    /// <summary><c>inotifywait -m</c> on /run/netns (or, when it is absent, <c>-r</c> on /run, which adds a watch on the
    /// directory when it sees it made), its lines read as they come.</summary>
    private sealed class InotifyObserver : Observer
    {
        private readonly Process _process;
        private readonly Thread _reader;

        private InotifyObserver(Process process, bool absent)
            : base(absent ? "inotifywait -m -r /run" : "inotifywait -m /run/netns")
        {
            _process = process;
            _reader = new Thread(Read) { IsBackground = true };
            _reader.Start();
        }

        public static async Task<InotifyObserver> StartAsync(bool absent)
        {
            string[] args = absent
                ? ["-m", "-r", "-e", "create", "--format", "%w%f", "/run"]
                : ["-m", "-e", "create", "--format", "%w%f", Directory];
            var p = Process.Start(new ProcessStartInfo("inotifywait", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            while (await p.StandardError.ReadLineAsync() is { } line && !line.Contains("established", StringComparison.Ordinal))
            {
            }

            return new InotifyObserver(p, absent);
        }

        public override void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }

        private void Read()
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                if (line.StartsWith(Directory + "/", StringComparison.Ordinal))
                {
                    Saw(line[(Directory.Length + 1)..]);
                }
            }
        }
    }

    /// <summary>What a fallback poll does: list the directory every period and report what is new. Its phase is
    /// drawn at random before each trial, as a poll running on its own would be, independent of when ip runs.</summary>
    private sealed class PollObserver : Observer
    {
        private readonly Timer _timer;
        private readonly TimeSpan _period;
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);

        public PollObserver(TimeSpan period)
            : base("poll every 1 s")
        {
            _period = period;
            _timer = new Timer(_ => Tick(), null, period, period);
        }

        public void Rephase() => _timer.Change(TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * _period.Ticks)), _period);

        public override void Dispose() => _timer.Dispose();

        private void Tick()
        {
            lock (_known)
            {
                var now = System.IO.Directory.Exists(Directory) ? System.IO.Directory.EnumerateFileSystemEntries(Directory).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal) : [];
                foreach (var name in now.Where(n => !_known.Contains(n)))
                {
                    Saw(name);
                }

                _known.Clear();
                _known.UnionWith(now);
            }
        }
    }
}
