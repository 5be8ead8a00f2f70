using System.Diagnostics;
using System.Text;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Docker.Tests.Infrastructure;

/// <summary><c>aether serve --docker-plugin NAME</c> as a process, its hub bound to a test namespace; its output kept for
/// failure messages. Disposing stops it (SIGTERM, then SIGKILL).</summary>
public sealed class Daemon : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    private Daemon(Process process, string socket, string pluginName)
    {
        Process = process;
        Socket = socket;
        PluginSocket = $"/run/docker/plugins/{pluginName}.sock";
    }

    public Process Process { get; }

    /// <summary>The API's socket.</summary>
    public string Socket { get; }

    /// <summary>The plugin's socket.</summary>
    public string PluginSocket { get; }

    /// <summary>What the daemon printed.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the daemon with its files in <paramref name="directory"/> and waits until it serves.</summary>
    public static async Task<Daemon> StartAsync(string directory, string hostNamespace, string wireGuardPrefix, string pluginName)
    {
        var socket = Path.Combine(directory, "aether.sock");
        var psi = new ProcessStartInfo(CliProcess.BinaryPath)
        {
            ArgumentList =
            {
                "serve", "--socket", socket, "--db", Path.Combine(directory, "aether.db"), "--namespace", hostNamespace,
                "--wireguard-prefix", wireGuardPrefix, "--docker-plugin", pluginName, "--hub-resync", "2s",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var daemon = new Daemon(Process.Start(psi)!, socket, pluginName);
        daemon.Process.OutputDataReceived += daemon.Append;
        daemon.Process.ErrorDataReceived += daemon.Append;
        daemon.Process.BeginOutputReadLine();
        daemon.Process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (daemon.Process.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"the daemon exited with {daemon.Process.ExitCode} before serving:\n{daemon.Output}");
            }

            if (File.Exists(daemon.PluginSocket) && (await CliProcess.RunAsync("status", "--socket", socket)).Code == 0)
            {
                return daemon;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                await daemon.DisposeAsync();
                throw new Xunit.Sdk.XunitException("the daemon did not serve within 60 s:\n" + daemon.Output);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM and wait for the exit (10 s at most).</summary>
    public async Task<int> StopAsync()
    {
        if (!Process.HasExited)
        {
            CliProcess.Terminate(Process);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Process.WaitForExitAsync(cts.Token);
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (OperationCanceledException)
        {
            Process.Kill();
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }

    private void Append(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
