using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Aether.Cni.Tests;

/// <summary>The real <c>aether-cni</c> binary run as a runtime runs it: <c>CNI_*</c> in the environment (nothing
/// inherited from the test's), the configuration on stdin, the answer on stdout. <c>$AETHER_CNI</c> names another
/// build (the native one) to run instead of the build output.</summary>
public static class CniPlugin
{
    private static readonly Lazy<string> Binary = new(Locate);

    /// <summary>One run.</summary>
    public sealed record Result(int Code, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

        public int ErrorCode => Json.GetProperty("code").GetInt32();

        public string Msg => Json.GetProperty("msg").GetString()!;

        public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static string BinaryPath => Binary.Value;

    /// <summary>Runs the plugin with <paramref name="env"/> (a null value leaves the variable unset).</summary>
    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string?> env, string stdin)
    {
        var psi = new ProcessStartInfo(Binary.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var (key, value) in env)
        {
            if (value is not null)
            {
                psi.Environment[key] = value;
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(cts.Token);
        return new Result(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    /// <summary>The environment of one command.</summary>
    public static Dictionary<string, string?> Env(string command, string? containerId = "aetcid1", string? netns = "/run/netns/aetnone", string? ifName = "eth0", string? args = null) => new()
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = containerId,
        ["CNI_NETNS"] = netns,
        ["CNI_IFNAME"] = ifName,
        ["CNI_ARGS"] = args,
        ["CNI_PATH"] = "/opt/cni/bin",
    };

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("AETHER_CNI") is { Length: > 0 } given)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new InvalidOperationException($"AETHER_CNI={given}: no such file");
        }

        var path = Path.Combine(AppContext.BaseDirectory, "aether-cni");
        return File.Exists(path) ? path : throw new InvalidOperationException($"no plugin at {path}");
    }
}
