using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

public sealed class AddressTests : NamespaceTest
{
    [Fact]
    public async Task IPv4_add_list_replace_delete()
    {
        var spec = new AddressSpec(AIndex, IPPrefix.Parse("10.20.0.1/24"));
        await Handle.AddAddressAsync(spec);

        var info = await IpAddressAsync(A, "10.20.0.1");
        Assert.NotNull(info);
        Assert.Equal("inet", Ip.Str(info.Value, "family"));
        Assert.Equal(24, Ip.Int(info.Value, "prefixlen"));
        Assert.Null(Ip.Str(info.Value, "broadcast"));

        var listed = await Handle.ListAddressesAsync(AddressFamily.InterNetwork, AIndex);
        var mine = Assert.Single(listed);
        Assert.Equal(IPPrefix.Parse("10.20.0.1/24"), mine.Prefix);
        Assert.Equal(AIndex, mine.Index);
        Assert.Equal(Scope.Universe, mine.Scope);
        Assert.Equal(A, mine.Label);

        // Replace of an existing address succeeds where add would fail, and leaves it there once.
        // (For IPv4 the kernel updates only lifetimes and metric in place, not broadcast or scope.)
        await Handle.ReplaceAddressAsync(spec);
        Assert.Single(await IpAddressesAsync(A), a => Ip.Str(a, "local") == "10.20.0.1");
        Assert.Single(await Handle.ListAddressesAsync(AddressFamily.InterNetwork, AIndex));

        // Replace of an address that is not there adds it.
        await Handle.ReplaceAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("10.21.0.1/16")));
        Assert.NotNull(await IpAddressAsync(A, "10.21.0.1"));

        await Handle.DeleteAddressAsync(spec);
        Assert.Null(await IpAddressAsync(A, "10.20.0.1"));
        Assert.NotNull(await IpAddressAsync(A, "10.21.0.1"));
        Assert.DoesNotContain(await Handle.ListAddressesAsync(AddressFamily.InterNetwork, AIndex), a => a.Prefix.Address.Equals(IPAddress.Parse("10.20.0.1")));
    }

    [Fact]
    public async Task IPv6_add_list_replace_delete()
    {
        var spec = new AddressSpec(AIndex, IPPrefix.Parse("fd00:20::1/64"));
        await Handle.AddAddressAsync(spec);

        // It may still be tentative (DAD); presence is what counts.
        var info = await IpAddressAsync(A, "fd00:20::1");
        Assert.NotNull(info);
        Assert.Equal("inet6", Ip.Str(info.Value, "family"));
        Assert.Equal(64, Ip.Int(info.Value, "prefixlen"));
        var listed = await Handle.ListAddressesAsync(AddressFamily.InterNetworkV6, AIndex);
        Assert.Contains(listed, a => a.Prefix == IPPrefix.Parse("fd00:20::1/64") && a.Index == AIndex);
        Assert.All(listed, a => Assert.Equal(AddressFamily.InterNetworkV6, a.Prefix.Family));

        await Handle.ReplaceAddressAsync(spec);
        Assert.Single(await IpAddressesAsync(A), a => Ip.Str(a, "local") == "fd00:20::1");

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddAddressAsync(spec));
        Assert.Equal("EEXIST", ex.ErrnoName);

        await Handle.DeleteAddressAsync(spec);
        Assert.Null(await IpAddressAsync(A, "fd00:20::1"));
        var gone = await Assert.ThrowsAsync<NetlinkException>(() => Handle.DeleteAddressAsync(spec));
        Assert.Equal(Errno.EADDRNOTAVAIL, gone.Errno);
    }

    [Fact]
    public async Task Adding_twice_is_EEXIST_and_deleting_a_missing_one_is_EADDRNOTAVAIL()
    {
        var spec = new AddressSpec(AIndex, IPPrefix.Parse("10.22.0.1/24"));
        await Handle.AddAddressAsync(spec);

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.AddAddressAsync(spec));
        Assert.Equal(Errno.EEXIST, ex.Errno);
        Assert.Equal("EEXIST", ex.ErrnoName);
        Assert.Equal("add address", ex.Operation);
        Assert.Contains("10.22.0.1/24", ex.Message, StringComparison.Ordinal);

        var missing = new AddressSpec(AIndex, IPPrefix.Parse("10.23.0.1/24"));
        var ex2 = await Assert.ThrowsAsync<NetlinkException>(() => Handle.DeleteAddressAsync(missing));
        Assert.Equal(Errno.EADDRNOTAVAIL, ex2.Errno);
        Assert.Equal("EADDRNOTAVAIL", ex2.ErrnoName);

        // The failed calls changed nothing.
        var addresses = await IpAddressesAsync(A);
        Assert.Equal(["10.22.0.1"], addresses.Where(a => Ip.Str(a, "family") == "inet").Select(a => Ip.Str(a, "local")));
    }

    [Fact]
    public async Task Listing_matches_ip_and_filters_by_family_and_link()
    {
        await Handle.AddAddressAsync(new AddressSpec(AIndex, IPPrefix.Parse("10.30.0.1/24")));
        await Handle.AddAddressAsync(new AddressSpec(BIndex, IPPrefix.Parse("10.30.0.2/24")));
        await Handle.AddAddressAsync(new AddressSpec(BIndex, IPPrefix.Parse("fd00:30::2/64")));

        var onB = await Handle.ListAddressesAsync(index: BIndex);
        Assert.All(onB, a => Assert.Equal(BIndex, a.Index));
        var fromIp = (await IpAddressesAsync(B)).Select(a => $"{Ip.Str(a, "local")}/{Ip.Int(a, "prefixlen")}").Order(StringComparer.Ordinal);
        Assert.Equal(fromIp, onB.Select(a => a.Prefix.ToString()).Order(StringComparer.Ordinal));
        Assert.Contains(onB, a => a.Prefix.ToString() == "fd00:30::2/64");

        var v4 = await Handle.ListAddressesAsync(AddressFamily.InterNetwork);
        Assert.All(v4, a => Assert.Equal(AddressFamily.InterNetwork, a.Prefix.Family));
        var ipV4 = (await Ip.JsonAsync(Ns, "-4", "addr", "show")).SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
            .Select(a => $"{Ip.Str(a, "local")}/{Ip.Int(a, "prefixlen")}").Order(StringComparer.Ordinal);
        Assert.Equal(ipV4, v4.Select(a => a.Prefix.ToString()).Order(StringComparer.Ordinal));
        Assert.Contains("10.30.0.1/24", v4.Select(a => a.Prefix.ToString()));
    }

    [Fact]
    public async Task Addresses_added_by_ip_are_read_by_Aether()
    {
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.40.0.1/16", "brd", "+", "dev", A, "label", A + ":x");
        await Ip.RunAsync("-n", Ns, "addr", "add", "fd00:40::1/80", "dev", A, "nodad");
        await Ip.RunAsync("-n", Ns, "addr", "add", "10.41.0.1", "peer", "10.41.0.2", "dev", B);

        var onA = await Handle.ListAddressesAsync(index: AIndex);
        var v4 = Assert.Single(onA, a => a.Prefix.Family == AddressFamily.InterNetwork);
        Assert.Equal(IPPrefix.Parse("10.40.0.1/16"), v4.Prefix);
        Assert.Equal(IPAddress.Parse("10.40.255.255"), v4.Broadcast);
        Assert.Equal(A + ":x", v4.Label);
        var v6 = Assert.Single(onA, a => a.Prefix.Address.Equals(IPAddress.Parse("fd00:40::1")));
        Assert.Equal(80, v6.Prefix.PrefixLength);

        var p2p = Assert.Single(await Handle.ListAddressesAsync(AddressFamily.InterNetwork, BIndex));
        Assert.Equal(IPPrefix.Parse("10.41.0.1/32"), p2p.Prefix);
        Assert.Equal(IPAddress.Parse("10.41.0.2"), p2p.Peer);
    }

    private async Task<JsonElement[]> IpAddressesAsync(string dev)
    {
        var links = await Ip.JsonAsync(Ns, "addr", "show", "dev", dev);
        return [.. Assert.Single(links).GetProperty("addr_info").EnumerateArray()];
    }

    private async Task<JsonElement?> IpAddressAsync(string dev, string local)
    {
        foreach (var a in await IpAddressesAsync(dev))
        {
            if (Ip.Str(a, "local") == local)
            {
                return a;
            }
        }

        return null;
    }
}
