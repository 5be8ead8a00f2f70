using System.Diagnostics;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Cni.Tests;

/// <summary>A real <c>aether serve</c> on a private socket and database, its hub in a test namespace standing for
/// the host; killed at the end (its userspace WireGuard goes with it: a parent-death signal).</summary>
public sealed class Daemon : IAsyncDisposable
{
    private readonly Process _process;

    private Daemon(Process process, string socket)
    {
        _process = process;
        Socket = socket;
    }

    public string Socket { get; }

    public static async Task<Daemon> StartAsync(string dir, string hostNamespace, string wireGuardPrefix)
    {
        var socket = Path.Combine(dir, "aether.sock");
        var psi = new ProcessStartInfo(CliProcess.BinaryPath)
        {
            ArgumentList = { "serve", "--socket", socket, "--db", Path.Combine(dir, "aether.db"), "--namespace", hostNamespace, "--wireguard-prefix", wireGuardPrefix },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new Daemon(process, socket);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"the daemon exited with {process.ExitCode} before serving");
            }

            if ((await CliProcess.RunAsync("status", "--socket", socket)).Code == 0)
            {
                return daemon;
            }

            if (DateTime.UtcNow > deadline)
            {
                await daemon.DisposeAsync();
                throw new Xunit.Sdk.XunitException("the daemon did not serve within 60 s");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
