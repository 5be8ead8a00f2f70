using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Aether.Server;

/// <summary>
/// Feeds systemd's watchdog: when the unit has <c>WatchdogSec=</c>, systemd passes <c>$WATCHDOG_USEC</c> (and
/// <c>$WATCHDOG_PID</c>, which must be this process) and kills the service when no <c>WATCHDOG=1</c> comes within
/// that time; this sends one at every half of it, from the time the app has started until it stops, through the
/// package's <see cref="ISystemdNotifier"/> (Microsoft.Extensions.Hosting.Systemd itself sends only <c>READY=1</c>
/// and <c>STOPPING=1</c>). A daemon whose thread pool or timers are stuck stops feeding it, and systemd restarts it.
/// </summary>
internal sealed partial class SystemdWatchdog(IHostApplicationLifetime lifetime, ILogger<SystemdWatchdog> log, ISystemdNotifier? notifier = null) : BackgroundService
{
    private static readonly ServiceState Watchdog = new("WATCHDOG=1");

    /// <summary>How often to send <c>WATCHDOG=1</c>: half of <c>$WATCHDOG_USEC</c>, or null when systemd asks for none
    /// (or asked another process).</summary>
    internal static TimeSpan? Interval()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec <= 0)
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable("WATCHDOG_PID") is { Length: > 0 } pid
            && (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var watched) || watched != Environment.ProcessId))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(Math.Max(usec / 2, 1000));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier is not { IsEnabled: true } || Interval() is not { } interval)
        {
            return;
        }

        // From the start on: before it, systemd's start timeout (TimeoutStartSec) applies, not the watchdog.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        LogFeeding(log, interval.TotalSeconds);
        // The first one half a period after READY=1 (which systemd counts as the first sign of life).
        using var timer = new PeriodicTimer(interval);
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            try
            {
                notifier.Notify(Watchdog);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                LogFailed(log, e.Message);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 9011, Level = LogLevel.Information, Message = "feeding systemd's watchdog every {Seconds:F1} s")]
    private static partial void LogFeeding(ILogger logger, double seconds);

    [LoggerMessage(EventId = 9010, Level = LogLevel.Warning, Message = "could not notify systemd's watchdog: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
