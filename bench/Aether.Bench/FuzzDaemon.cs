using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Aether.Bench;

/// <summary><c>aether serve</c> in a private directory, for the fuzz and the soak.</summary>
internal sealed class FuzzDaemon(Process process)
{
    public Process Process { get; } = process;

    public static FuzzDaemon Start(string cli, string socket, string dir, string hostNamespace, string wireGuardPrefix, string? listen = null, string? tokenFile = null)
    {
        var psi = new ProcessStartInfo(cli)
        {
            ArgumentList = { "serve", "--socket", socket, "--db", Path.Combine(dir, "aether.db"), "--state-dir", Path.Combine(dir, "state"), "--namespace", hostNamespace, "--wireguard-prefix", wireGuardPrefix },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (listen is not null)
        {
            psi.ArgumentList.Add("--listen");
            psi.ArgumentList.Add(listen);
            psi.ArgumentList.Add("--token-file");
            psi.ArgumentList.Add(tokenFile!);
        }

        psi.Environment.Remove("AETHER_DB");
        psi.Environment.Remove("AETHER_STATE_DIR");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("aether serve did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.Contains("fail", StringComparison.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine("daemon: " + line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new FuzzDaemon(process);
    }

    public static HttpClient Client(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
            return new NetworkStream(s, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://aether/"), Timeout = TimeSpan.FromSeconds(60) };

    public async Task WaitReadyAsync(string socket)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await HealthyAsync(socket))
        {
            if (Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the daemon did not serve (exited: {Process.HasExited})");
            }

            await Task.Delay(100);
        }
    }

    public static async Task<bool> HealthyAsync(string socket)
    {
        try
        {
            using var http = Client(socket);
            return (await http.GetAsync("v1/health")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Removes every lab and hub network the daemon holds (all made by this run: its database is private).</summary>
    public static async Task CleanUpAsync(string socket)
    {
        if (!await HealthyAsync(socket))
        {
            return;
        }

        using var http = Client(socket);
        foreach (var lab in JsonDocument.Parse(await http.GetStringAsync("v1/labs")).RootElement.EnumerateArray())
        {
            using var _ = await http.DeleteAsync("v1/labs/" + Uri.EscapeDataString(lab.GetProperty("lab").GetString()!));
        }

        foreach (var network in JsonDocument.Parse(await http.GetStringAsync("v1/hub/networks")).RootElement.EnumerateArray())
        {
            using var _ = await http.DeleteAsync("v1/hub/networks/" + Uri.EscapeDataString(network.GetProperty("networkId").GetString()!));
        }
    }

    public async Task StopAsync()
    {
        if (!Process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await Process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill();
            }
        }

        Process.Dispose();
    }
}
