using System.Runtime.InteropServices;
using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;

namespace Aether.Server;

/// <summary>
/// systemd through Microsoft.Extensions.Hosting.Systemd: its lifetime sends <c>READY=1</c> once the app has started
/// (the hub is up and Kestrel listens) and <c>STOPPING=1</c> when it begins to stop, through its
/// <see cref="ISystemdNotifier"/>; <see cref="SystemdWatchdog"/> sends <c>WATCHDOG=1</c> when systemd asks for it;
/// the console log is in the journal's format (<c>&lt;6&gt;</c>, <c>&lt;4&gt;</c>… priorities before each line).
/// </summary>
/// <remarks>The package turns itself on only when the process's parent is systemd (or it is pid 1). The notification
/// protocol's own rule is wider: notify whenever <c>$NOTIFY_SOCKET</c> is set, as a service started through a
/// wrapper, a container runtime or a test expects; so the notifier and the lifetime are also taken then. The journal's
/// format likewise when <c>$JOURNAL_STREAM</c> says the standard streams go to the journal.</remarks>
internal static partial class SystemdSupport
{
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    /// <summary>systemd's first passed file descriptor (<c>SD_LISTEN_FDS_START</c>).</summary>
    private const int ListenFdsStart = 3;

    public static void Add(IServiceCollection services)
    {
        services.AddSystemd(); // under systemd: the notifier, the lifetime and the journal's log format
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.Replace(ServiceDescriptor.Singleton<IHostLifetime, SystemdLifetime>());
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")))
        {
            services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Systemd);
        }

        services.AddHostedService<SystemdWatchdog>();
    }

    /// <summary>Whether systemd passed this process its listening socket (socket activation: <c>$LISTEN_PID</c> is this
    /// process and <c>$LISTEN_FDS</c> at least 1).</summary>
    public static bool SocketActivated =>
        int.TryParse(Environment.GetEnvironmentVariable("LISTEN_PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid == Environment.ProcessId
        && int.TryParse(Environment.GetEnvironmentVariable("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var fds) && fds >= 1;

    /// <summary>Listens on the socket systemd passed (file descriptor 3, <c>aether.socket</c>'s
    /// <c>ListenStream</c>) through Kestrel's own <see cref="KestrelServerOptionsSystemdExtensions.UseSystemd(KestrelServerOptions)"/>;
    /// the descriptor is marked close-on-exec first, so that the processes the daemon starts (wireguard-go, lab nodes)
    /// do not inherit the API's socket.</summary>
    public static void ListenOnPassedSocket(KestrelServerOptions kestrel)
    {
        _ = Fcntl(ListenFdsStart, F_SETFD, FD_CLOEXEC);
        kestrel.UseSystemd();
    }

    // fcntl(2) with an int argument (F_SETFD).
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
