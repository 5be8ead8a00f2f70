using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>The output of one program run to its end.</summary>
/// <param name="Code">Its exit code.</param>
/// <param name="Stdout">What it printed.</param>
/// <param name="Stderr">What it printed on stderr.</param>
internal sealed record ChaosOutput(int Code, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {Code}: {Stdout.Trim()} {Stderr.Trim()}".Trim();
}

/// <summary>Programs run as children: <c>ip</c>, <c>nft</c>, and the <c>aether</c> CLI in a process group of its own
/// (through <c>setsid</c>, which execs in place, so the group's id is the CLI's pid) so a SIGKILL reaches all of it.</summary>
internal static class ChaosShell
{
    private const int SIGKILL = 9;

    /// <summary>Runs <paramref name="program"/> to its end (<paramref name="timeout"/>, default 120 s, then killed).</summary>
    public static async Task<ChaosOutput> RunAsync(string program, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null)
    {
        using var process = Start(program, args, stdin is not null);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException e)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{program} {string.Join(' ', args)}: still running after {(timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds} s", e);
        }

        return new ChaosOutput(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>ip ARGS</c>.</summary>
    public static Task<ChaosOutput> IpAsync(params string[] args) => RunAsync("ip", args);

    /// <summary>Runs <c>ip ARGS</c> and returns its output; throws when it fails.</summary>
    public static async Task<string> IpOrThrowAsync(params string[] args)
    {
        var result = await RunAsync("ip", args);
        return result.Code == 0 ? result.Stdout : throw new InvalidOperationException($"ip {string.Join(' ', args)}: {result}");
    }

    /// <summary>Starts <paramref name="program"/> with its output redirected.</summary>
    public static Process Start(string program, IEnumerable<string> args, bool redirectInput = false)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + program);
    }

    /// <summary>Starts the CLI as the leader of a new process group.</summary>
    public static Process StartGroup(string cli, IEnumerable<string> args) => Start("setsid", [cli, .. args]);

    /// <summary>SIGKILL to the process group <paramref name="process"/> leads (and to it); true when it was still
    /// running, so the signal cut it short.</summary>
    public static async Task<bool> KillGroupAsync(Process process)
    {
        var running = !process.HasExited;
        if (running)
        {
            try
            {
                process.Kill(); // SIGKILL to the CLI at once: no handler runs
            }
            catch (InvalidOperationException)
            {
                // it ended meanwhile
            }

            _ = await RunAsync("kill", ["-KILL", "--", "-" + process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]); // and whatever it started in its group
        }

        await process.WaitForExitAsync();
        return running && process.ExitCode == 128 + SIGKILL;
    }

    /// <summary>SIGTERM to a process, then waits for it (SIGKILL after 30 s).</summary>
    public static async Task TerminateAsync(Process process)
    {
        if (!process.HasExited)
        {
            _ = await RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillGroupAsync(process);
        }
    }

    /// <summary>Parses <c>ip -j</c> output. <c>ip -j</c> writes control characters in names and aliases unescaped
    /// (other tests on the machine make such names on purpose), which is not JSON: they are escaped first (outside
    /// strings JSON has no control characters but whitespace, so every other one is inside a string).</summary>
    public static JsonDocument IpJson(string text)
    {
        if (!text.Any(c => c < ' ' && c is not ('\n' or '\r' or '\t')))
        {
            return JsonDocument.Parse(text);
        }

        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c < ' ' && c is not ('\n' or '\r' or '\t') ? escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : escaped.Append(c);
        }

        return JsonDocument.Parse(escaped.ToString());
    }
}
