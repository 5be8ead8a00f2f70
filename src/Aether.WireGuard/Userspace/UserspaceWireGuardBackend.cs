using System.Collections.Concurrent;
using System.Globalization;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.WireGuard.Userspace;

/// <summary>
/// WireGuard devices served by wireguard-go, one supervised process per device, inside this backend's namespace,
/// configured over the UAPI socket (the same protocol wg(8) speaks, so <c>wg show NAME</c> sees what this does).
/// <para>
/// The socket path (<c>/var/run/wireguard/NAME.sock</c>) is in the file system, which every network namespace
/// shares: two userspace devices can never have the same name, whichever namespaces they are in. Creating one whose
/// name is taken in another namespace fails with <see cref="WireGuardNameCollisionException"/>, naming that
/// namespace; reading or configuring a name served from another namespace finds nothing here.
/// </para>
/// </summary>
public sealed partial class UserspaceWireGuardBackend : IWireGuardBackend
{
    /// <summary>Names taken by the userspace backends of this process, across namespaces (sockets are global).</summary>
    private static readonly ConcurrentDictionary<string, UserspaceWireGuardBackend> Claims = new(StringComparer.Ordinal);

    private readonly NetworkNamespace _namespace;
    private readonly NetworkNamespace? _target;
    private readonly WireGuardBackendOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, WireGuardGoProcess> _processes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposed;

    private UserspaceWireGuardBackend(NetworkNamespace? target, WireGuardBackendOptions options)
    {
        _target = target?.Duplicate();
        _namespace = _target?.Duplicate() ?? NetworkNamespace.OpenCurrent();
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger<UserspaceWireGuardBackend>() ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc/>
    public event EventHandler<WireGuardDeviceEventArgs>? DeviceChanged;

    /// <inheritdoc/>
    public WireGuardBackendKind Kind => WireGuardBackendKind.Userspace;

    /// <inheritdoc/>
    public NetworkNamespace? TargetNamespace => _target;

    /// <summary>Opens the backend for <paramref name="target"/> (null: the process's namespace).</summary>
    /// <exception cref="WireGuardException"><c>ENOENT</c> when wireguard-go or nsenter is not installed.</exception>
    public static UserspaceWireGuardBackend Open(NetworkNamespace? target = null, WireGuardBackendOptions? options = null)
    {
        options ??= WireGuardBackendOptions.Default;
        options.Validate();
        foreach (var (program, package) in new[] { (options.WireGuardGo, "wireguard-go"), (options.Nsenter, "util-linux"), (options.Setpriv, "util-linux") })
        {
            if (FindProgram(program) is null)
            {
                throw new WireGuardException(Errno.ENOENT, "open userspace wireguard backend", program, $"{program} is not installed (Debian package {package}): the userspace backend needs it");
            }
        }

        return new UserspaceWireGuardBackend(target, options);
    }

    /// <inheritdoc/>
    public bool Supervises(string name) => _processes.ContainsKey(name);

    /// <summary>The pid of the wireguard-go serving <paramref name="name"/> for this backend, or null.</summary>
    public int? ProcessId(string name) => _processes.TryGetValue(name, out var process) ? process.Pid : null;

    /// <summary>How many times the wireguard-go of <paramref name="name"/> was restarted after dying.</summary>
    public int Restarts(string name) => _processes.TryGetValue(name, out var process) ? process.Restarts : 0;

    /// <inheritdoc/>
    public async Task CreateDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_processes.TryGetValue(name, out var existing))
            {
                if (existing.Pid is not null)
                {
                    throw new WireGuardException(Errno.EEXIST, "create wireguard device", name, $"wireguard-go already serves it (pid {existing.Pid})");
                }

                await existing.EnsureRunningAsync(cancellationToken).ConfigureAwait(false); // waiting to be restarted: now
                return;
            }

            var socket = SocketPath(name);
            var claim = Claims.GetOrAdd(name, this);
            if (claim != this && !claim.IsSameNamespace(_namespace.Inode))
            {
                throw new WireGuardNameCollisionException(name, socket, Describe(claim._namespace.Inode), claim.ProcessId(name));
            }

            try
            {
                if (await UapiClient.ServerPidAsync(socket, cancellationToken).ConfigureAwait(false) is int pid)
                {
                    var inode = InodeOfPid(pid);
                    if (inode == _namespace.Inode)
                    {
                        throw new WireGuardException(Errno.EEXIST, "create wireguard device", name, $"a wireguard-go this backend did not start serves it (pid {pid})");
                    }

                    throw new WireGuardNameCollisionException(name, socket, inode is ulong other ? Describe(other) : "another namespace", pid);
                }

                if (_options.Detached)
                {
                    Claims.TryRemove(KeyValuePair.Create(name, this)); // nothing of this process keeps it
                    await StartDetachedAsync(name, socket, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var process = new WireGuardGoProcess(name, _namespace, _target?.Name, _options, _logger);
                process.Restarted += (_, e) => DeviceChanged?.Invoke(this, e);
                try
                {
                    await process.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await process.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                _processes[name] = process;
            }
            catch
            {
                if (!_processes.ContainsKey(name))
                {
                    Claims.TryRemove(KeyValuePair.Create(name, this));
                }

                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task DeleteDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_processes.TryRemove(name, out var process))
            {
                await process.DisposeAsync().ConfigureAwait(false);
                Claims.TryRemove(KeyValuePair.Create(name, this));
                return;
            }

            // A wireguard-go this backend did not start (an earlier run's): take its device away, and it exits.
            var socket = SocketPath(name);
            if (await UapiClient.ServerPidAsync(socket, cancellationToken).ConfigureAwait(false) is not int pid || InodeOfPid(pid) != _namespace.Inode)
            {
                throw new WireGuardException(Errno.ENODEV, "delete wireguard device", name, "no userspace WireGuard device of that name in this namespace");
            }

            using (var handle = NetlinkHandle.OpenAt(_namespace))
            {
                try
                {
                    await handle.DeleteLinkAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
                {
                }
            }

            var deadline = DateTime.UtcNow + _options.StopTimeout;
            while (await UapiClient.ServerPidAsync(socket, cancellationToken).ConfigureAwait(false) == pid)
            {
                if (DateTime.UtcNow > deadline)
                {
                    _ = Libc.Kill(pid, Libc.SIGTERM);
                    break;
                }

                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }

            // It exits when its device goes, but leaves its socket file behind (wg(8) would list a device that is
            // gone): removed once nothing answers on it.
            if (File.Exists(socket) && await UapiClient.ServerPidAsync(socket, cancellationToken).ConfigureAwait(false) is null)
            {
                try
                {
                    File.Delete(socket);
                }
                catch (IOException)
                {
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public Task<WireGuardDevice?> GetDeviceAsync(string name, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        return UapiClient.GetAsync(SocketPath(name), name, _options.RequestTimeout, IsHere, cancellationToken);
    }

    /// <inheritdoc/>
    public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default)
    {
        InterfaceName.Validate(name, nameof(name));
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return UapiClient.SetAsync(SocketPath(name), name, config, _options.RequestTimeout, IsHere, cancellationToken);
    }

    /// <summary>Stops every wireguard-go this backend started (their devices go with them).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var (name, process) in _processes)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                Claims.TryRemove(KeyValuePair.Create(name, this));
            }

            _processes.Clear();
        }
        finally
        {
            _gate.Release();
        }

        _target?.Dispose();
        _namespace.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => "userspace WireGuard (wireguard-go) in " + (_target?.ToString() ?? "the process namespace");

    /// <summary>The namespace of a process by its pid, or null when it is gone.</summary>
    internal static ulong? InodeOfPid(int pid)
    {
        try
        {
            using var ns = NetworkNamespace.OpenPid(pid);
            return ns.Inode;
        }
        catch (NetlinkException)
        {
            return null;
        }
    }

    /// <summary>A namespace as a person would name it: its name under /run/netns, or the host's, or its inode.</summary>
    internal static string Describe(ulong inode)
    {
        foreach (var name in NetworkNamespace.List())
        {
            try
            {
                using var ns = NetworkNamespace.Open(name);
                if (ns.Inode == inode)
                {
                    return "namespace " + name;
                }
            }
            catch (NetlinkException)
            {
            }
        }

        using var own = NetworkNamespace.OpenCurrent();
        return own.Inode == inode ? "the host namespace" : string.Create(CultureInfo.InvariantCulture, $"the unnamed namespace net:[{inode}]");
    }

    private bool IsSameNamespace(ulong inode) => Volatile.Read(ref _disposed) == 0 && _namespace.Inode == inode;

    private bool IsHere(int? pid) => pid is int p && InodeOfPid(p) == _namespace.Inode;

    private string SocketPath(string name) => UapiClient.SocketPath(_options.SocketDirectory, name);

    private static string? FindProgram(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
