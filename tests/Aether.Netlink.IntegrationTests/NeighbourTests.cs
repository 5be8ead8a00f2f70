using System.Net;
using System.Text.Json;
using Aether.Netlink.IntegrationTests.Infrastructure;

namespace Aether.Netlink.IntegrationTests;

public sealed class NeighbourTests : NamespaceTest
{
    [Fact]
    public async Task Permanent_entries_add_list_delete()
    {
        await Handle.AddNeighbourAsync(AIndex, IPAddress.Parse("10.50.0.9"), "02:aa:bb:cc:dd:01");
        await Handle.AddNeighbourAsync(AIndex, IPAddress.Parse("fd00:50::9"), "02:aa:bb:cc:dd:02");

        var ip = await IpNeighboursAsync(A);
        var v4 = Assert.Single(ip, n => Ip.Str(n, "dst") == "10.50.0.9");
        Assert.Equal("02:aa:bb:cc:dd:01", Ip.Str(v4, "lladdr"));
        Assert.Equal(["PERMANENT"], v4.GetProperty("state").EnumerateArray().Select(s => s.GetString()));
        var v6 = Assert.Single(ip, n => Ip.Str(n, "dst") == "fd00:50::9");
        Assert.Equal("02:aa:bb:cc:dd:02", Ip.Str(v6, "lladdr"));

        var mine = await Handle.ListNeighboursAsync(AIndex);
        var n4 = Assert.Single(mine, n => n.Address.Equals(IPAddress.Parse("10.50.0.9")));
        Assert.True(n4.IsPermanent);
        Assert.Equal("02:aa:bb:cc:dd:01", n4.LinkLayerAddress);
        Assert.Equal(AIndex, n4.Index);
        var n6 = Assert.Single(mine, n => n.Address.Equals(IPAddress.Parse("fd00:50::9")));
        Assert.Equal("02:aa:bb:cc:dd:02", n6.LinkLayerAddress);

        // Adding again replaces (the lladdr changes, no duplicate).
        await Handle.AddNeighbourAsync(AIndex, IPAddress.Parse("10.50.0.9"), "02:aa:bb:cc:dd:03");
        v4 = Assert.Single(await IpNeighboursAsync(A), n => Ip.Str(n, "dst") == "10.50.0.9");
        Assert.Equal("02:aa:bb:cc:dd:03", Ip.Str(v4, "lladdr"));

        await Handle.DeleteNeighbourAsync(AIndex, IPAddress.Parse("10.50.0.9"));
        await Handle.DeleteNeighbourAsync(AIndex, IPAddress.Parse("fd00:50::9"));
        ip = await IpNeighboursAsync(A);
        Assert.DoesNotContain(ip, n => Ip.Str(n, "dst") is "10.50.0.9" or "fd00:50::9");
        Assert.DoesNotContain(await Handle.ListNeighboursAsync(AIndex), n => n.IsPermanent);

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => Handle.DeleteNeighbourAsync(AIndex, IPAddress.Parse("10.50.0.9")));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Contains("10.50.0.9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_matches_ip_and_filters_by_link()
    {
        await Ip.RunAsync("-n", Ns, "neigh", "add", "10.51.0.1", "lladdr", "02:00:00:00:00:01", "nud", "permanent", "dev", A);
        await Ip.RunAsync("-n", Ns, "neigh", "add", "10.51.0.2", "lladdr", "02:00:00:00:00:02", "nud", "permanent", "dev", B);
        await Ip.RunAsync("-n", Ns, "neigh", "add", "fd00:51::3", "lladdr", "02:00:00:00:00:03", "nud", "permanent", "dev", B);

        // The kernel also keeps NOARP multicast entries that come and go with MLD; compare the permanent ones.
        var onB = await Handle.ListNeighboursAsync(BIndex);
        Assert.All(onB, n => Assert.Equal(BIndex, n.Index));
        var ipOnB = (await Ip.JsonAsync(Ns, "neigh", "show", "nud", "permanent", "dev", B)).Select(n => $"{Ip.Str(n, "dst")} {Ip.Str(n, "lladdr")}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, ipOnB.Length);
        Assert.Equal(ipOnB, onB.Where(n => n.IsPermanent).Select(n => $"{n.Address} {n.LinkLayerAddress}").Order(StringComparer.Ordinal));

        var all = await Handle.ListNeighboursAsync();
        var ipAll = (await Ip.JsonAsync(Ns, "neigh", "show", "nud", "permanent")).Select(n => $"{Ip.Str(n, "dst")} {Ip.Str(n, "lladdr")}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, ipAll.Length);
        Assert.Equal(ipAll, all.Where(n => n.IsPermanent).Select(n => $"{n.Address} {n.LinkLayerAddress}").Order(StringComparer.Ordinal));
        Assert.Contains(all, n => n.Index == AIndex && n.Address.Equals(IPAddress.Parse("10.51.0.1")));
        Assert.Contains(all, n => n.Index == BIndex);
    }

    private Task<JsonElement[]> IpNeighboursAsync(string dev) => Ip.JsonAsync(Ns, "neigh", "show", "dev", dev);
}
