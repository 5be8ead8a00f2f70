namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// The oracle for sysctls: procps' <c>sysctl</c>, run inside a test namespace by <c>ip netns exec</c>. Nothing here
/// goes through Aether. The host's values are only ever read, never written.
/// </summary>
internal static class SysctlOracle
{
    /// <summary><c>ip netns exec NS sysctl -n KEY</c>, or plain <c>sysctl -n KEY</c> for the host (null), trimmed.</summary>
    public static async Task<string> ReadAsync(string? ns, string key)
    {
        var (code, stdout, stderr) = ns is null
            ? await Ip.ExecAsync("sysctl", "-n", key)
            : await Ip.ExecAsync("ip", "netns", "exec", ns, "sysctl", "-n", key);
        if (code != 0)
        {
            throw new InvalidOperationException($"`sysctl -n {key}` in {ns ?? "the host"} exited {code}: {stderr.Trim()}");
        }

        return stdout.Trim();
    }

    /// <summary>Whether <c>KEY</c> exists in the namespace (<c>sysctl -n</c> succeeds).</summary>
    public static async Task<bool> ExistsAsync(string ns, string key)
    {
        var (code, _, _) = await Ip.ExecAsync("ip", "netns", "exec", ns, "sysctl", "-n", key);
        return code == 0;
    }

    /// <summary><c>ip netns exec NS sysctl -w KEY=VALUE</c>: only ever inside a test namespace.</summary>
    public static async Task WriteAsync(string ns, string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        if (!ns.StartsWith("aet", StringComparison.Ordinal))
        {
            throw new ArgumentException($"namespace '{ns}' is not a test namespace", nameof(ns));
        }

        var (code, _, stderr) = await Ip.ExecAsync("ip", "netns", "exec", ns, "sysctl", "-q", "-w", key + "=" + value);
        if (code != 0)
        {
            throw new InvalidOperationException($"`sysctl -w {key}={value}` in {ns} exited {code}: {stderr.Trim()}");
        }
    }

    /// <summary>The host's values of <paramref name="keys"/> (those that exist there), to check they never change.</summary>
    public static async Task<Dictionary<string, string?>> HostSnapshotAsync(params string[] keys)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var (code, stdout, _) = await Ip.ExecAsync("sysctl", "-n", key);
            values[key] = code == 0 ? stdout.Trim() : null;
        }

        return values;
    }

    /// <summary>Fields split at whitespace: <c>32768\t60999</c> and <c>32768 60999</c> are one value.</summary>
    public static string[] Fields(string value) => value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
