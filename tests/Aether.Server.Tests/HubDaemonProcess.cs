using System.Diagnostics;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>The built CLI's <c>aether serve</c> as a child process, with its hub in a test's host namespace.</summary>
internal static class HubDaemonProcess
{
    /// <summary>Starts <c>aether serve --socket SOCKET --db DB --namespace HOST --wireguard-prefix PREFIX</c> and waits
    /// (60 s at most) until <c>aether status</c> gets an answer; the daemon's output is read and dropped.</summary>
    public static async Task<Process> StartAsync(string socket, string db, string host, string wireGuardPrefix)
    {
        var psi = new ProcessStartInfo(CliProcess.BinaryPath)
        {
            ArgumentList = { "serve", "--socket", socket, "--db", db, "--namespace", host, "--wireguard-prefix", wireGuardPrefix },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var daemon = Process.Start(psi)!;
        daemon.OutputDataReceived += (_, _) => { };
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while ((await CliProcess.RunAsync("status", "--socket", socket)).Code != 0)
        {
            if (daemon.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                var exited = daemon.HasExited;
                if (!exited)
                {
                    daemon.Kill();
                }

                throw new Xunit.Sdk.XunitException(exited ? $"the daemon exited with {daemon.ExitCode} before serving" : "the daemon did not serve within 60 s");
            }

            await Task.Delay(200);
        }

        return daemon;
    }
}
