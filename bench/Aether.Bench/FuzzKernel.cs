using System.Diagnostics;
using System.Text.Json;

namespace Aether.Bench;

/// <summary>The machine's named namespaces (<c>ip -j netns</c>) and the host namespace's links (<c>ip -j link</c>), as
/// a set of names.</summary>
internal sealed class KernelSnapshot(HashSet<string> names)
{
    public HashSet<string> Names { get; } = names;

    public static async Task<KernelSnapshot> TakeAsync(string? inNamespace = null)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (inNamespace is null)
        {
            foreach (var ns in JsonDocument.Parse(await IpAsync("-j", "netns") is { Length: > 0 } j ? j : "[]").RootElement.EnumerateArray())
            {
                names.Add("netns " + ns.GetProperty("name").GetString());
            }
        }

        var links = inNamespace is null ? await IpAsync("-j", "link") : await IpAsync("-n", inNamespace, "-j", "link");
        foreach (var link in JsonDocument.Parse(links is { Length: > 0 } ? links : "[]").RootElement.EnumerateArray())
        {
            names.Add("link " + link.GetProperty("ifname").GetString());
        }

        return new KernelSnapshot(names);
    }

    /// <summary>What was added (<c>+</c>) or removed (<c>-</c>) since this snapshot.</summary>
    public List<string> Diff(KernelSnapshot after) =>
        [.. after.Names.Except(Names).Select(n => "+" + n), .. Names.Except(after.Names).Select(n => "-" + n)];

    private static async Task<string> IpAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("ip", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("ip did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }
}
