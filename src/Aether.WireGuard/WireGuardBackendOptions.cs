using Microsoft.Extensions.Logging;

namespace Aether.WireGuard;

/// <summary>Which backend to use.</summary>
public enum WireGuardBackendPreference
{
    /// <summary>The kernel's WireGuard when its generic netlink family exists, wireguard-go otherwise.</summary>
    Auto,

    /// <summary>The kernel's only; fail when the kernel has none.</summary>
    Kernel,

    /// <summary>wireguard-go only, even where the kernel has WireGuard.</summary>
    Userspace,
}

/// <summary>How WireGuard backends are chosen and how wireguard-go is run.</summary>
public sealed record WireGuardBackendOptions
{
    /// <summary>The defaults.</summary>
    public static WireGuardBackendOptions Default { get; } = new();

    /// <summary>Which backend; <see cref="WireGuardBackendPreference.Auto"/> by default.</summary>
    public WireGuardBackendPreference Preference { get; init; } = WireGuardBackendPreference.Auto;

    /// <summary>The wireguard-go program, looked up in <c>PATH</c> when it has no slash.</summary>
    public string WireGuardGo { get; init; } = "wireguard-go";

    /// <summary>The nsenter program (util-linux) that starts wireguard-go inside the device's namespace.</summary>
    public string Nsenter { get; init; } = "nsenter";

    /// <summary>The setpriv program (util-linux) that gives wireguard-go its parent-death signal (SIGTERM) before it
    /// execs nsenter: wireguard-go ends with the daemon, even one killed with SIGKILL.</summary>
    public string Setpriv { get; init; } = "setpriv";

    /// <summary>wireguard-go's <c>LOG_LEVEL</c>: <c>error</c> (the default), <c>verbose</c> or <c>silent</c>. Its
    /// output goes to the logger at debug level, and its last lines into errors when it fails.</summary>
    public string WireGuardGoLogLevel { get; init; } = "error";

    /// <summary>Where the UAPI sockets are: wireguard-go's and wg(8)'s fixed directory. A different one only makes
    /// sense for a UAPI server that is not wireguard-go.</summary>
    public string SocketDirectory { get; init; } = Userspace.UapiClient.DefaultDirectory;

    /// <summary>How long a started wireguard-go has to open its device and socket.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a UAPI exchange may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The first wait before restarting a wireguard-go that died; it doubles on each failure in a row.</summary>
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between restarts.</summary>
    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopped wireguard-go has to exit after SIGTERM before it gets SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Userspace: wireguard-go outlives the backend and the process that made it (a command such as
    /// <c>aether apply</c> that exits while its devices stay). It is started in its own session (<c>setsid</c>),
    /// daemonizes itself, is never supervised, restarted or stopped by the backend, and goes when its device is
    /// deleted (or its namespace). False (the default): one supervised wireguard-go per device that ends with the process.
    /// </summary>
    public bool Detached { get; init; }

    /// <summary>Where the backends log (starts, exits, restarts; never keys).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A program name is empty, a time is not positive, the log level unknown.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(WireGuardGo);
        ArgumentException.ThrowIfNullOrWhiteSpace(Nsenter);
        ArgumentException.ThrowIfNullOrWhiteSpace(Setpriv);
        ArgumentException.ThrowIfNullOrWhiteSpace(SocketDirectory);
        if (WireGuardGoLogLevel is not ("error" or "verbose" or "silent"))
        {
            throw new ArgumentException($"wireguard-go log level '{WireGuardGoLogLevel}': error, verbose or silent", nameof(WireGuardGoLogLevel));
        }

        foreach (var (name, value) in new[] { (nameof(ReadyTimeout), ReadyTimeout), (nameof(RequestTimeout), RequestTimeout), (nameof(RestartDelay), RestartDelay), (nameof(MaxRestartDelay), MaxRestartDelay), (nameof(StopTimeout), StopTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive, not {value}", name);
            }
        }
    }
}
