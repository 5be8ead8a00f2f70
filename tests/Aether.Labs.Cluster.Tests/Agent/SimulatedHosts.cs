using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>
/// Hosts simulated on this machine: a namespace per host, each joined to an underlay bridge (in a namespace of its
/// own) by a veth <c>u0</c> with 192.168.250.N/24. Every namespace the test makes, and every lab namespace, starts
/// with <see cref="Prefix"/>; dispose deletes them all (the lab's included, if a test failed before its destroy).
/// </summary>
internal sealed class SimulatedHosts : IAsyncDisposable
{
    private SimulatedHosts(string prefix, int count)
    {
        Prefix = prefix;
        Count = count;
        StateDirectory = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    /// <summary>The prefix of every name (also a valid lab name).</summary>
    public string Prefix { get; }

    public int Count { get; }

    public string StateDirectory { get; }

    public string Underlay => Prefix + "u";

    public string HostNamespace(int i) => Prefix + "h" + i.ToString(CultureInfo.InvariantCulture);

    public static IPAddress Address(int i) => IPAddress.Parse("192.168.250." + i.ToString(CultureInfo.InvariantCulture));

    public static async Task<SimulatedHosts> CreateAsync(int count)
    {
        var hosts = new SimulatedHosts("aet" + Guid.NewGuid().ToString("N")[..6], count);
        try
        {
            await IpAsync("netns", "add", hosts.Underlay);
            await IpAsync("-n", hosts.Underlay, "link", "add", "br0", "type", "bridge");
            await IpAsync("-n", hosts.Underlay, "link", "set", "br0", "up");
            for (var i = 1; i <= count; i++)
            {
                var ns = hosts.HostNamespace(i);
                var port = "p" + i.ToString(CultureInfo.InvariantCulture);
                await IpAsync("netns", "add", ns);
                await IpAsync("-n", ns, "link", "set", "lo", "up");
                await IpAsync("-n", ns, "link", "add", "u0", "type", "veth", "peer", "name", port, "netns", hosts.Underlay);
                await IpAsync("-n", hosts.Underlay, "link", "set", port, "master", "br0", "up");
                await IpAsync("-n", ns, "addr", "add", Address(i) + "/24", "dev", "u0");
                await IpAsync("-n", ns, "link", "set", "u0", "up");
            }

            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>The names of the namespaces on the machine that start with the prefix (the entries of
    /// <c>/run/netns</c>: no parsing that could fail in a dispose).</summary>
    public Task<List<string>> NamespacesAsync() => Task.FromResult<List<string>>(Directory.Exists("/run/netns")
        ? [.. Directory.EnumerateFileSystemEntries("/run/netns", Prefix + "*").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
        : []);

    /// <summary><c>ip -j -d link show dev NAME</c> inside <paramref name="ns"/>, or null when it is not there.</summary>
    public static async Task<JsonElement?> LinkAsync(string ns, string name)
    {
        var (code, output) = await TryRunAsync("ip", "-n", ns, "-j", "-d", "link", "show", "dev", name);
        if (code != 0)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(output);
        return doc.RootElement[0].Clone();
    }

    public static Task<string> IpAsync(params string[] args) => RunAsync("ip", args);

    public static async Task<string> RunAsync(string program, params string[] args)
    {
        var (code, output) = await TryRunAsync(program, args);
        return code == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {code}: {output}");
    }

    public static async Task<(int Code, string Output)> TryRunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, process.ExitCode == 0 ? await stdout : (await stdout) + (await stderr));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in await NamespacesAsync())
        {
            _ = await TryRunAsync("ip", "netns", "del", ns);
        }

        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
