using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// The independent oracle: iproute2's <c>ip</c>, run as a child process, its JSON parsed with System.Text.Json.
/// Nothing here goes through Aether.
/// </summary>
internal static class Ip
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs <c>ip ARGS</c>; throws when it exits non-zero.</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        var (code, stdout, stderr) = await TryRunAsync(args);
        if (code != 0)
        {
            throw new InvalidOperationException($"`ip {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
        }

        return stdout;
    }

    /// <summary>Runs <c>ip ARGS</c> and returns its exit code and output.</summary>
    public static Task<(int Code, string Stdout, string Stderr)> TryRunAsync(params string[] args) => ExecAsync("ip", args);

    /// <summary>Runs any program (used for <c>ip netns exec</c>-free checks such as <c>stat</c>).</summary>
    public static Task<(int Code, string Stdout, string Stderr)> ExecAsync(string program, params string[] args) => ExecAsync(Timeout, program, args);

    /// <summary>Runs any program, given <paramref name="timeout"/> to finish (then it and its children are killed).</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> ExecAsync(TimeSpan timeout, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
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
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:F0} s", e);
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a program inside a namespace with <c>ip netns exec NS PROGRAM ARGS</c>.</summary>
    public static Task<(int Code, string Stdout, string Stderr)> RunInAsync(string ns, string program, params string[] args) =>
        ExecAsync("ip", ["netns", "exec", ns, program, .. args]);

    /// <summary>Runs <c>ip [-n NS] -j ARGS</c> and parses the JSON array it prints.</summary>
    public static async Task<JsonElement[]> JsonAsync(string? ns, params string[] args)
    {
        var full = new List<string>();
        if (ns is not null)
        {
            full.Add("-n");
            full.Add(ns);
        }

        full.Add("-j");
        full.AddRange(args);
        var text = await RunAsync([.. full]);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        using var doc = JsonDocument.Parse(text);
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary><c>ip [-n NS] -j -d link show</c>: every link in the namespace.</summary>
    public static Task<JsonElement[]> LinksAsync(string? ns) => JsonAsync(ns, "-d", "link", "show");

    /// <summary><c>ip [-n NS] -j -d link show dev NAME</c>, or null when there is no such link.</summary>
    public static async Task<JsonElement?> LinkAsync(string? ns, string name)
    {
        var links = await LinksAsync(ns);
        foreach (var link in links)
        {
            if (link.GetProperty("ifname").GetString() == name)
            {
                return link;
            }
        }

        return null;
    }

    /// <summary>The named link; fails the test when it is missing.</summary>
    public static async Task<JsonElement> RequireLinkAsync(string? ns, string name) =>
        await LinkAsync(ns, name) ?? throw new Xunit.Sdk.XunitException($"ip: no link '{name}' in {ns ?? "the host namespace"}");

    /// <summary>The names of every link in the namespace.</summary>
    public static async Task<HashSet<string>> LinkNamesAsync(string? ns) =>
        (await LinksAsync(ns)).Select(l => l.GetProperty("ifname").GetString()!).ToHashSet(StringComparer.Ordinal);

    /// <summary>The names <c>ip netns list</c> shows.</summary>
    public static async Task<HashSet<string>> NetnsNamesAsync()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in (await RunAsync("netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "name (id: 3)" or "name"
            names.Add(line.Split(' ')[0]);
        }

        return names;
    }

    /// <summary>The inode of a namespace as seen by a process started inside it by <c>ip netns exec</c>.</summary>
    public static async Task<ulong> InodeInsideAsync(string ns)
    {
        var link = (await RunAsync("netns", "exec", ns, "readlink", "/proc/self/ns/net")).Trim();
        return ParseNsLink(link);
    }

    /// <summary>Parses <c>net:[4026531840]</c>.</summary>
    public static ulong ParseNsLink(string link)
    {
        var open = link.IndexOf('[', StringComparison.Ordinal);
        var close = link.IndexOf(']', StringComparison.Ordinal);
        if (!link.StartsWith("net:[", StringComparison.Ordinal) || open < 0 || close < open)
        {
            throw new FormatException($"not a net namespace link: '{link}'");
        }

        return ulong.Parse(link.AsSpan(open + 1, close - open - 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>flags</c> array of a link, address or route.</summary>
    public static string[] Flags(JsonElement e) =>
        e.TryGetProperty("flags", out var f) ? [.. f.EnumerateArray().Select(x => x.GetString()!)] : [];

    /// <summary>A string property, or null.</summary>
    public static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer property, or null.</summary>
    public static long? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    /// <summary><c>linkinfo.info_data</c> of a link (ip -d).</summary>
    public static JsonElement InfoData(JsonElement link) => link.GetProperty("linkinfo").GetProperty("info_data");

    /// <summary><c>linkinfo.info_kind</c> of a link (ip -d), or null for a plain device.</summary>
    public static string? InfoKind(JsonElement link) =>
        link.TryGetProperty("linkinfo", out var info) ? Str(info, "info_kind") : null;
}
