using System.Diagnostics;

namespace Aether.Hub.Tests.Integration;

/// <summary>The NAT failure policy. A NAT that cannot be installed, for real: another process holds a table of the
/// hub's name created with <c>flags owner</c>, so the hub cannot take it over (the kernel refuses any change to it
/// with EPERM, and libnftables 1.0.6 cannot even list it) until that process exits.</summary>
public sealed partial class HubTests
{
    [Fact]
    public async Task Require_fails_and_rolls_back_an_add_whose_NAT_cannot_be_installed_warn_reports_it_and_the_network_works()
    {
        var hubA = await StartAsync(_hostA, "a", new InMemoryHubStore());
        var hubB = await StartAsync(_hostB, "b", new InMemoryHubStore());
        await hubB.AddNetworkAsync(Request(a: false, net: 0), default);
        var before = Summary(await Ip.LinksAsync(HostA));
        using var holder = await HoldTableAsync(HostA, "aether-hub");

        // require: the add fails at the table, names the kernel's refusal, and nothing of the network is left.
        var failed = await Assert.ThrowsAsync<HubException>(() => hubA.AddNetworkAsync(Request(a: true, net: 0) with { NatPolicy = "require" }, default));
        Assert.Equal(HubErrorKind.Failed, failed.Kind);
        Assert.Equal("nftables in the host", failed.Step);
        // (libnftables 1.0.6 cannot print a table with flags owner: the read of the table is what fails here, with
        // the listing in the message; a change would be refused with EPERM.)
        Assert.True(failed.Message.Contains("table inet aether-hub", StringComparison.Ordinal), failed.ToString());
        Assert.Equal(before, Summary(await Ip.LinksAsync(HostA)));
        Assert.Null(await Ip.LinkAsync(_cA, "eth0"));
        Assert.DoesNotContain("10.201.0.0/24", string.Join('\n', await RoutesAsync(HostA)), StringComparison.Ordinal);
        Assert.Empty(hubA.ListNetworks());

        // A bad policy is refused with the rest of the request's checks.
        var invalid = await Assert.ThrowsAsync<HubException>(() => hubA.AddNetworkAsync(Request(a: true, net: 0) with { NatPolicy = "maybe" }, default));
        Assert.Equal(("natPolicy", HubErrorKind.Invalid), (invalid.Errors.Single().Field, invalid.Kind));

        // warn (the default): the add succeeds, the tunnel works, the status says the NAT failed and why, and
        // nothing is masqueraded (the internet namespace has no route back, so its ping gets no answer).
        var added = await hubA.AddNetworkAsync(Request(a: true, net: 0), default);
        Assert.Equal("warn", added.Network.NatPolicy);
        await PingAsync(_cA, "10.201.0.3", expect: true);
        var nat = (await hubA.GetStatusAsync(default)).Networks.Single().Nat;
        Assert.Equal(("warn", "failed"), (nat.Policy, nat.State));
        Assert.Equal(failed.Message["nftables in the host: ".Length..], nat.Error);
        await PingAsync(_cA, "198.18.0.2", expect: false);

        // The holder goes: the repair loop installs the table, the status says ok, and the masquerade works.
        holder.Release();
        await WaitForAsync(async () => (await hubA.GetStatusAsync(default)).Networks.Single().Nat.State == "ok", 30, "NAT installed after the holder went");
        Assert.Null((await hubA.GetStatusAsync(default)).Networks.Single().Nat.Error);
        await PingAsync(_cA, "198.18.0.2", expect: true);
        var nft = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "-j", "list", "table", "inet", "aether-hub");
        Assert.Contains("masquerade", nft.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Creates <c>table inet NAME { flags owner; }</c> in <paramref name="ns"/> from an <c>nft -i</c> that
    /// keeps running: the table is that process's, and goes when it exits.</summary>
    private static async Task<TableHolder> HoldTableAsync(string ns, string name)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "netns", "exec", ns, "nft", "-i" })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        var holder = new TableHolder(process);
        await process.StandardInput.WriteLineAsync($"add table inet {name} {{ flags owner; }}");
        await process.StandardInput.FlushAsync();
        await WaitForAsync(async () => (await Ip.ExecAsync("ip", "netns", "exec", ns, "nft", "list", "tables")).Stdout.Contains(name, StringComparison.Ordinal), 10, "the held table");
        return holder;
    }

    /// <summary>The process holding a table; released (its stdin closed, it exits) at the latest on dispose.</summary>
    private sealed class TableHolder(Process process) : IDisposable
    {
        public void Release()
        {
            if (!process.HasExited)
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(5000))
                {
                    process.Kill();
                    process.WaitForExit();
                }
            }
        }

        public void Dispose()
        {
            Release();
            process.Dispose();
        }
    }
}
