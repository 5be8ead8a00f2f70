using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Aether.Cli.Tests;

/// <summary>The real <c>aether</c> binary, run as a child process: the one <c>$AETHER_CLI</c> names (test.sh sets it
/// to what <c>./aether</c> publishes, the native build where it could link one), else the build output of
/// src/Aether.Cli.</summary>
public static partial class Cli
{
    private static readonly Lazy<string> Binary = new(Locate);

    /// <summary>The output of one run.</summary>
    public sealed record Result(int Code, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
    }

    /// <summary>The path of the built <c>aether</c> binary (to run it under another program, such as <c>unshare</c>).</summary>
    public static string BinaryPath => Binary.Value;

    /// <summary>Runs <c>aether ARGS</c> to completion (60 s at most).</summary>
    public static async Task<Result> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>aether ARGS</c> with <paramref name="stdin"/> written to its standard input, then closed.</summary>
    public static async Task<Result> RunWithInputAsync(string stdin, params string[] args)
    {
        using var process = Start(args, redirectInput: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts <c>aether ARGS</c> with stdout and stderr redirected.</summary>
    public static Process Start(params string[] args) => Start(args, redirectInput: false);

    private static Process Start(string[] args, bool redirectInput)
    {
        var psi = new ProcessStartInfo(Binary.Value)
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

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + Binary.Value);
    }

    /// <summary>Sends SIGTERM to a process.</summary>
    public static void Terminate(Process process)
    {
        if (Kill(process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Holds the exclusive lock <c>aether</c> takes for <paramref name="topology"/> until disposed.</summary>
    public static IDisposable HoldLock(string topology)
    {
        Directory.CreateDirectory("/run/aether");
        var path = LockPath(topology);
        var fd = Open(path, 0x2 | 0x40 | 0x80000, 420);
        if (fd < 0 || Flock(fd, 2 | 4) != 0)
        {
            throw new InvalidOperationException($"could not lock {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        return new Held(fd);
    }

    /// <summary>The lock file of a topology.</summary>
    public static string LockPath(string topology) => $"/run/aether/{topology}.lock";

    /// <summary>The repository's root: the first directory above the test's build output that holds Aether.slnx.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aether.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Aether.slnx) above " + AppContext.BaseDirectory);
        }
    }

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("AETHER_CLI") is { Length: > 0 } given)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new InvalidOperationException($"AETHER_CLI={given}: no such file");
        }

        var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = Path.Combine(RepositoryRoot, "src", "Aether.Cli", "bin", configuration, "net10.0", "aether");
        return File.Exists(path) ? path : throw new InvalidOperationException($"no CLI at {path}: build src/Aether.Cli ({configuration}) first");
    }

    private sealed class Held(int fd) : IDisposable
    {
        public void Dispose() => _ = Close(fd);
    }

    // Hand-written: nothing in the BCL takes (or signals) like this.
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
