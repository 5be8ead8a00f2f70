using System.Diagnostics;
using System.Globalization;
using Aether.Netlink;

namespace Aether.WireGuard.Userspace;

/// <summary>Devices whose wireguard-go outlives this process (<see cref="WireGuardBackendOptions.Detached"/>).</summary>
public sealed partial class UserspaceWireGuardBackend
{
    /// <summary>util-linux's setsid: the daemon leaves the caller's session and process group, so a Ctrl-C meant for
    /// the command that made it does not reach it.</summary>
    private const string SetsidProgram = "setsid";

    /// <summary>The shell that points the daemon's standard streams at /dev/null and execs it (its arguments are
    /// passed as arguments, never as shell text).</summary>
    private const string Shell = "/bin/sh";

    /// <summary>Starts <c>setsid -f sh -c 'exec "$@" &lt;/dev/null &gt;/dev/null 2&gt;&amp;1' nsenter --net=NSFD
    /// wireguard-go -f NAME</c>: setsid forks a child in a session of its own and returns; the child becomes
    /// wireguard-go in the foreground (so the process that serves the socket, which <c>SO_PEERCRED</c> names, is the
    /// one that keeps running; wireguard-go's own daemon mode would name its parent, which exits), holding none of our
    /// pipes. Then waits until the socket answers from a wireguard-go in this namespace that has bound its port.</summary>
    private async Task StartDetachedAsync(string name, string socket, CancellationToken cancellationToken)
    {
        if (FindProgram(SetsidProgram) is null)
        {
            throw new WireGuardException(Errno.ENOENT, "start wireguard-go", name, "setsid is not installed (Debian package util-linux): a detached wireguard-go needs it");
        }

        var psi = new ProcessStartInfo(SetsidProgram)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-f", "--", Shell, "-c", "exec \"$@\" </dev/null >/dev/null 2>&1", "wireguard-go", _options.Nsenter })
        {
            psi.ArgumentList.Add(argument);
        }

        psi.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--net=/proc/{Environment.ProcessId}/fd/{_namespace.DangerousGetHandle()}"));
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(_options.WireGuardGo);
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add(name);
        psi.Environment["WG_PROCESS_FOREGROUND"] = "1";
        psi.Environment["LOG_LEVEL"] = "silent";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new WireGuardException(Errno.ENOENT, "start wireguard-go", name, $"{SetsidProgram} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new WireGuardException(ex.NativeErrorCode, "start wireguard-go", name, $"{SetsidProgram}: {ex.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false); // setsid -f returns once it forked
            var text = ((await output.ConfigureAwait(false)) + (await errors.ConfigureAwait(false))).Trim();
            if (process.ExitCode != 0)
            {
                throw new WireGuardException(Errno.EIO, "start wireguard-go", name, $"setsid exited with code {process.ExitCode}: {text}");
            }
        }

        var deadline = DateTime.UtcNow + _options.ReadyTimeout;
        while (true)
        {
            try
            {
                if (await UapiClient.GetAsync(socket, name, _options.RequestTimeout, IsHere, cancellationToken).ConfigureAwait(false) is { ListenPort: > 0 })
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is WireGuardException or System.Net.Sockets.SocketException or IOException)
            {
                // not serving yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new WireGuardException(Errno.ETIMEDOUT, "start wireguard-go", name, $"no UAPI socket at {socket} answering from this namespace within {_options.ReadyTimeout.TotalSeconds:0.#} s (wireguard-go runs detached with its output in /dev/null: try wireguard-go -f {name} in the namespace to see why)");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }
}
