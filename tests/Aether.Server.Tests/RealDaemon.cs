using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>The built <c>aether serve</c> as a process, its output collected, killed when disposed if still running.</summary>
public sealed class RealDaemon : IAsyncDisposable
{
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private RealDaemon(Process process)
    {
        Process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    /// <summary>Starts <paramref name="fileName"/> (the CLI unless given) with <paramref name="args"/> and
    /// <paramref name="environment"/> added to the test's.</summary>
    public static RealDaemon Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? fileName = null)
    {
        var psi = new ProcessStartInfo(fileName ?? CliProcess.BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        // The test's own process may run under systemd or with a notify socket: none of that is the daemon's.
        foreach (var name in new[] { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM" })
        {
            psi.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        return new RealDaemon(Process.Start(psi)!);
    }

    /// <summary>Waits until <c>/readyz</c> answers 200 over <paramref name="socket"/> (60 s at most).</summary>
    public async Task WaitReadyAsync(string socket)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var http = Unix.Client(socket);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(Process.HasExited, "the daemon exited: " + await StderrAsync());
            try
            {
                if ((await http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail("the daemon was not ready within 60 s");
    }

    /// <summary>SIGTERM, then its exit code (within 30 s).</summary>
    public async Task<int> StopAsync()
    {
        CliProcess.Terminate(Process);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Process.WaitForExitAsync(cts.Token);
        return Process.ExitCode;
    }

    /// <summary>What it wrote on stderr (once it has exited).</summary>
    public async Task<string> StderrAsync() => Process.HasExited ? await _stderr : "(still running)";

    /// <summary>A datagram socket bound to a fresh path under <paramref name="directory"/>, as systemd's notify socket.</summary>
    public static (Socket Socket, string Path) NotifySocket(string directory)
    {
        var path = System.IO.Path.Combine(directory, "notify-" + Guid.NewGuid().ToString("N")[..8]);
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return (socket, path);
    }

    /// <summary>The next datagram on <paramref name="socket"/>, or null after <paramref name="timeout"/>.</summary>
    public static async Task<string?> ReceiveAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Datagrams until one has the line <paramref name="line"/>; every one received, or null when none came
    /// with it within <paramref name="timeout"/>.</summary>
    public static async Task<List<string>?> ReceiveUntilAsync(Socket socket, string line, TimeSpan timeout)
    {
        var received = new List<string>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await ReceiveAsync(socket, deadline - DateTime.UtcNow) is not { } message)
            {
                return null;
            }

            received.Add(message);
            if (message.Split('\n').Contains(line, StringComparer.Ordinal))
            {
                return received;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        await Process.WaitForExitAsync();
        _ = await _stdout;
        _ = await _stderr;
        Process.Dispose();
    }
}

/// <summary>Reads a notify socket as systemd does, all the time (an unread datagram socket fills after a few messages
/// and then blocks its sender), keeping the messages for the test to take in order.</summary>
public sealed class NotifyReader : IDisposable
{
    private readonly System.Threading.Channels.Channel<string> _messages = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public NotifyReader(Socket socket)
    {
        _loop = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    _messages.Writer.TryWrite(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The next message, or null after <paramref name="timeout"/>.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _messages.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
