using System.Diagnostics;
using System.Globalization;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Interop;
using Microsoft.Extensions.Logging;

namespace Aether.WireGuard.Userspace;

/// <summary>
/// One wireguard-go serving one device, started inside the device's namespace and kept running: started with
/// <c>setpriv --pdeathsig TERM -- nsenter --net=NSFD -- wireguard-go -f NAME</c> (setpriv sets the parent-death
/// signal and execs nsenter, which enters the namespace and execs, so the process we hold is wireguard-go itself, in
/// the foreground, attached to us, and it gets SIGTERM when the daemon dies, even by SIGKILL; it is started from
/// <see cref="SpawnThread"/>, since the signal follows the thread that forked it); ready once its UAPI socket answers from that very pid;
/// restarted with exponential backoff when it dies unasked (its device and configuration die with it: the
/// <see cref="Restarted"/> hint tells the reconcile source to apply them again); stopped with SIGTERM (SIGKILL after
/// a timeout) on dispose, and its socket removed if it left one behind. Never restarted into a named namespace that
/// no longer exists.
/// </summary>
internal sealed partial class WireGuardGoProcess : IAsyncDisposable
{
    private const int KeptLines = 20;

    private readonly string _name;
    private readonly NetworkNamespace _namespace;
    private readonly string? _namespaceName;
    private readonly string _where;
    private readonly WireGuardBackendOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Queue<string> _lines = new();
    private Process? _process;
    private Task? _supervisor;
    private CancellationTokenSource _wakeBackoff = new();
    private int _restarts;

    public WireGuardGoProcess(string name, NetworkNamespace target, string? namespaceName, WireGuardBackendOptions options, ILogger logger)
    {
        _name = name;
        _namespace = target.Duplicate();
        _namespaceName = namespaceName;
        _where = namespaceName ?? target.ToString();
        _options = options;
        _logger = logger;
        SocketPath = UapiClient.SocketPath(options.SocketDirectory, name);
    }

    /// <summary>Raised (on a pool thread) when wireguard-go died unasked, and again when it was restarted.</summary>
    public event EventHandler<WireGuardDeviceEventArgs>? Restarted;

    /// <summary>The device's UAPI socket.</summary>
    public string SocketPath { get; }

    /// <summary>The pid of the running wireguard-go, or null between a death and its restart.</summary>
    public int? Pid
    {
        get
        {
            var process = Volatile.Read(ref _process);
            return process is { HasExited: false } ? process.Id : null;
        }
    }

    /// <summary>How many times it was restarted after dying.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>Starts wireguard-go and waits until its socket answers; then supervises it.</summary>
    /// <exception cref="WireGuardException">It could not be started, exited, or did not get ready in time; its last
    /// output lines are in the message.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SpawnAsync(restart: false, cancellationToken).ConfigureAwait(false);
            _supervisor = Task.Run(SuperviseAsync, CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts it now if it is waiting to be restarted.</summary>
    public async Task EnsureRunningAsync(CancellationToken cancellationToken)
    {
        if (Pid is not null)
        {
            return;
        }

        await Volatile.Read(ref _wakeBackoff).CancelAsync().ConfigureAwait(false);
        var deadline = DateTime.UtcNow + _options.ReadyTimeout + _options.ReadyTimeout;
        while (Pid is null || !await IsServingAsync(cancellationToken).ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new WireGuardException(Errno.ETIMEDOUT, "restart wireguard-go", _name, Tail());
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops supervising, then stops wireguard-go (SIGTERM, then SIGKILL) and removes a socket it left.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopProcessAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        if (_supervisor is not null)
        {
            await _supervisor.ConfigureAwait(false);
        }

        _namespace.Dispose();
        _wakeBackoff.Dispose();
        _stopping.Dispose();
    }

    private async Task SpawnAsync(bool restart, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(_options.Setpriv)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        psi.ArgumentList.Add("--pdeathsig");
        psi.ArgumentList.Add("TERM");
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(_options.Nsenter);

        // The namespace by our own descriptor: exactly the namespace we hold, named or not, renamed or not.
        psi.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--net=/proc/{Environment.ProcessId}/fd/{_namespace.DangerousGetHandle()}"));
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(_options.WireGuardGo);
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add(_name);
        psi.Environment["WG_PROCESS_FOREGROUND"] = "1";
        psi.Environment["LOG_LEVEL"] = _options.WireGuardGoLogLevel;

        lock (_lines)
        {
            _lines.Clear();
        }

        Process process;
        try
        {
            process = SpawnThread.Start(psi) ?? throw new WireGuardException(Errno.ENOENT, "start wireguard-go", _name, $"{_options.Setpriv} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new WireGuardException(ex.NativeErrorCode, "start wireguard-go", _name, $"{_options.Setpriv}: {ex.Message}");
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        Volatile.Write(ref _process, process);

        var deadline = DateTime.UtcNow + _options.ReadyTimeout;
        var wait = 1; // ms: it is usually ready within a few, so look often at first, then every 20 ms
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false); // output drained
                Volatile.Write(ref _process, null);
                var code = process.ExitCode;
                process.Dispose();
                throw new WireGuardException(Errno.EIO, "start wireguard-go", _name, $"it exited with code {code}: " + Tail());
            }

            // Ready: its socket answers, and it has brought its device up and bound its UDP sockets. Before that, a
            // listen port set through the socket is only stored (wireguard-go binds when it brings the device up, a
            // moment after it starts), so a port already in use would fail later, in its log, not in our request.
            var serving = await IsServingAsync(cancellationToken).ConfigureAwait(false);
            if (serving && (await IsBoundAsync(cancellationToken).ConfigureAwait(false) || DateTime.UtcNow > deadline))
            {
                if (restart)
                {
                    Interlocked.Increment(ref _restarts);
                }

                LogStarted(_logger, _name, process.Id, _where);
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                await StopProcessAsync().ConfigureAwait(false);
                throw new WireGuardException(Errno.ETIMEDOUT, "start wireguard-go", _name, $"no UAPI socket at {SocketPath} within {_options.ReadyTimeout.TotalSeconds:0.#} s: " + Tail());
            }

            try
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                wait = Math.Min(wait * 2, 20);
            }
            catch (OperationCanceledException)
            {
                await StopProcessAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Whether the socket answers, from our wireguard-go (not a stale file, not someone else's).</summary>
    private async Task<bool> IsServingAsync(CancellationToken cancellationToken)
    {
        var pid = Pid;
        if (pid is null)
        {
            return false;
        }

        try
        {
            return await UapiClient.ServerPidAsync(SocketPath, cancellationToken).ConfigureAwait(false) == pid;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Whether wireguard-go has bound its UDP sockets: the port it reports is the one bound (a random one
    /// when none was set), and 0 until it brings its device up.</summary>
    private async Task<bool> IsBoundAsync(CancellationToken cancellationToken)
    {
        try
        {
            var device = await UapiClient.GetAsync(SocketPath, _name, _options.RequestTimeout, pid => pid == Pid, cancellationToken).ConfigureAwait(false);
            return device is { ListenPort: > 0 };
        }
        catch (Exception ex) when (ex is WireGuardException or System.Net.Sockets.SocketException or IOException)
        {
            return false;
        }
    }

    private async Task SuperviseAsync()
    {
        var delay = _options.RestartDelay;
        while (!_stopping.IsCancellationRequested)
        {
            var process = Volatile.Read(ref _process);
            if (process is not null)
            {
                var startedAt = DateTime.UtcNow;
                try
                {
                    await process.WaitForExitAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                if (DateTime.UtcNow - startedAt > TimeSpan.FromSeconds(10))
                {
                    delay = _options.RestartDelay; // it ran fine for a while: this is a new failure, not a crash loop
                }

                var exit = process.ExitCode;
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (ReferenceEquals(Volatile.Read(ref _process), process))
                    {
                        Volatile.Write(ref _process, null);
                        process.Dispose();
                        RemoveStaleSocket();
                    }
                }
                finally
                {
                    _gate.Release();
                }

                var what = $"wireguard-go exited unasked with code {exit}: {Tail()}; restarting in {delay.TotalSeconds:0.#} s";
                LogDied(_logger, _name, exit, Tail(), delay.TotalSeconds);
                Raise(what);
            }

            if (_namespaceName is not null && !NetworkNamespace.Exists(_namespaceName))
            {
                LogNamespaceGone(_logger, _name, _namespaceName);
                return;
            }

            // Wait, unless asked to start now (a reconcile pass wants the device back).
            try
            {
                await Task.Delay(delay, Volatile.Read(ref _wakeBackoff).Token).WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                // Not disposed: an EnsureRunningAsync racing with this swap may still cancel the old one (harmless).
                Interlocked.Exchange(ref _wakeBackoff, new CancellationTokenSource());
            }

            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                await SpawnAsync(restart: true, _stopping.Token).ConfigureAwait(false);
                Raise("wireguard-go restarted with an empty configuration");
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NetlinkException or IOException or InvalidOperationException)
            {
                LogRestartFailed(_logger, _name, ex.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRestartDelay.Ticks));
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private async Task StopProcessAsync()
    {
        var process = Volatile.Read(ref _process);
        if (process is null)
        {
            return;
        }

        Volatile.Write(ref _process, null);
        try
        {
            if (!process.HasExited)
            {
                _ = Libc.Kill(process.Id, Libc.SIGTERM);
                using var timeout = new CancellationTokenSource(_options.StopTimeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }

            LogStopped(_logger, _name, process.Id);
        }
        finally
        {
            process.Dispose();
            RemoveStaleSocket();
        }
    }

    /// <summary>A SIGKILLed wireguard-go leaves its socket file: removed when nothing listens on it any more.</summary>
    private void RemoveStaleSocket()
    {
        try
        {
            if (File.Exists(SocketPath) && UapiClient.ServerPidAsync(SocketPath, CancellationToken.None).GetAwaiter().GetResult() is null)
            {
                File.Delete(SocketPath);
            }
        }
        catch (IOException)
        {
        }
        catch (System.Net.Sockets.SocketException)
        {
        }
    }

    private void Raise(string what)
    {
        try
        {
            Restarted?.Invoke(this, new WireGuardDeviceEventArgs(_name, what));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogHandlerFailed(_logger, _name, ex.Message);
        }
    }

    private void Keep(string? line)
    {
        if (string.IsNullOrWhiteSpace(line) || line.Contains('│', StringComparison.Ordinal) || line.Contains('─', StringComparison.Ordinal))
        {
            return; // the end of the output, or wireguard-go's framed banner
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }

        LogOutput(_logger, _name, line);
    }

    private string Tail()
    {
        lock (_lines)
        {
            return _lines.Count == 0 ? "(no output)" : string.Join(" | ", _lines.TakeLast(5));
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "wireguard-go for {Device} started (pid {Pid}) in {Namespace}")]
    private static partial void LogStarted(ILogger logger, string device, int pid, string @namespace);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "wireguard-go for {Device} exited unasked with code {Code}: {Output}; restarting in {Seconds:0.#} s")]
    private static partial void LogDied(ILogger logger, string device, int code, string output, double seconds);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "wireguard-go for {Device} could not be restarted: {Error}")]
    private static partial void LogRestartFailed(ILogger logger, string device, string error);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "wireguard-go for {Device} stopped (pid {Pid})")]
    private static partial void LogStopped(ILogger logger, string device, int pid);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "wireguard-go for {Device} not restarted: namespace {Namespace} no longer exists")]
    private static partial void LogNamespaceGone(ILogger logger, string device, string @namespace);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "wireguard-go {Device}: {Line}")]
    private static partial void LogOutput(ILogger logger, string device, string line);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "a handler of {Device}'s restart event failed: {Error}")]
    private static partial void LogHandlerFailed(ILogger logger, string device, string error);
}
