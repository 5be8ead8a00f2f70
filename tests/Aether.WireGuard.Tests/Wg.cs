using System.Diagnostics;
using System.Text;

namespace Aether.WireGuard.Tests;

/// <summary>The independent oracle for WireGuard: wg(8) from wireguard-tools, run as a child process.</summary>
internal static class Wg
{
    /// <summary>Runs <c>wg ARGS</c> with <paramref name="stdin"/> on its standard input.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("wg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start wg");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>wg ARGS</c> and returns its output; throws when it fails.</summary>
    public static async Task<string> RequireAsync(string? stdin, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(stdin, args);
        return code == 0 ? stdout : throw new InvalidOperationException($"`wg {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
    }

    /// <summary>Runs a shell script (for loops over wg without a process per call from .NET).</summary>
    public static async Task<string> ShellAsync(string script, string stdin)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start sh");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode == 0 ? await stdout : throw new InvalidOperationException($"sh exited {process.ExitCode}: {await stderr}");
    }
}
