using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class LinkChangeValidationTests
{
    [Fact]
    public void Valid_change_passes() =>
        new LinkChange { Name = "eth1", Mtu = 9000, MacAddress = "02:00:00:00:00:01", MasterIndex = 0, Up = true }.Validate();

    [Fact]
    public void Bad_name() => Rejects.With(() => new LinkChange { Name = "abcdefghijklmnop" }.Validate(), "Name", "'abcdefghijklmnop'");

    [Fact]
    public void Bad_mtu() => Rejects.With(() => new LinkChange { Mtu = 67 }.Validate(), "Mtu", "67");

    [Fact]
    public void Bad_mac() => Rejects.With(() => new LinkChange { MacAddress = "01:02:03:04:05" + ":xyz" }.Validate(), "MacAddress", "xyz");

    [Fact]
    public void Negative_master() => Rejects.With(() => new LinkChange { MasterIndex = -1 }.Validate(), "MasterIndex", "-1");
}
