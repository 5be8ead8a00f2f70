using System.Diagnostics;
using System.Text.Json;

namespace Aether.Docker.Tests.Infrastructure;

/// <summary>What the kernel says about a container, read from outside docker: <c>nsenter --net=SANDBOX ip -j addr</c>.</summary>
public static class Oracle
{
    /// <summary>Interface name → IPv4 addresses with prefix, inside the network namespace at <paramref name="sandbox"/>.</summary>
    public static async Task<Dictionary<string, List<string>>> AddressesAsync(string sandbox)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync("nsenter", "--net=" + sandbox, "ip", "-j", "-4", "addr");
        if (code != 0)
        {
            throw new Xunit.Sdk.XunitException($"nsenter --net={sandbox} ip -j addr: exit {code}: {stderr}");
        }

        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var link in JsonDocument.Parse(stdout).RootElement.EnumerateArray())
        {
            var name = link.GetProperty("ifname").GetString()!;
            var list = result.TryGetValue(name, out var l) ? l : result[name] = [];
            if (link.TryGetProperty("addr_info", out var infos))
            {
                list.AddRange(infos.EnumerateArray().Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}"));
            }
        }

        return result;
    }

    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="timeout"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(250);
        }
    }
}
