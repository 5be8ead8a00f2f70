using System.Diagnostics;
using System.Text;

namespace Aether.Packaging.Tests;

/// <summary>The repository these tests run in, and the programs they run (dotnet, the release script, what they
/// install), each as a child process with its output captured.</summary>
public static class Repo
{
    /// <summary>The repository's root: the directory above the test assembly that holds Aether.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration this test assembly was built in, and so the projects it references (the
    /// packages are made from that build, with <c>--no-build</c>).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    /// <summary>The output of one run.</summary>
    public sealed record Result(int Code, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> in <paramref name="workingDirectory"/> to
    /// completion, killed (with its children) after <paramref name="timeout"/>. MSBuild's variables that the test
    /// host inherited from <c>dotnet test</c> are removed, so a dotnet run here is what it is in a shell.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            psi.Environment.Remove(name);
        }

        // No build server or MSBuild node outlives the run; no first-run banner or telemetry.
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException e)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds} s", e);
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>dotnet ARGS</c> (see <see cref="RunAsync"/>) and fails the test, with its output, when it fails.</summary>
    public static async Task<Result> DotnetAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var result = await RunAsync("dotnet", args, workingDirectory, timeout);
        Assert.True(result.Code == 0, $"dotnet {string.Join(' ', args)}: {result}");
        return result;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aether.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Aether.slnx) above " + AppContext.BaseDirectory);
    }
}
