using System.Net;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class AddressSpecValidationTests
{
    private static readonly AddressSpec Valid = new(3, IPPrefix.Parse("10.0.0.1/30")) { Peer = IPAddress.Parse("10.0.0.2"), Label = "va:1" };

    [Fact]
    public void Valid_spec_passes() => Valid.Validate();

    [Fact]
    public void Non_positive_index() => Rejects.With(() => (Valid with { Index = -4 }).Validate(), "Index", "-4");

    [Fact]
    public void Missing_prefix() => Rejects.With(() => (Valid with { Prefix = default }).Validate(), "Prefix", "prefix");

    [Fact]
    public void Peer_of_another_family() => Rejects.With(() => (Valid with { Peer = IPAddress.IPv6Loopback }).Validate(), "Peer", "::1");

    [Fact]
    public void Label_over_15_bytes() => Rejects.With(() => (Valid with { Label = "va:0123456789abc" }).Validate(), "Label", "'va:0123456789abc'");

    [Fact]
    public void Multibyte_label_over_15_bytes() => Rejects.With(() => (Valid with { Label = "éééééééé" }).Validate(), "Label", "'éééééééé'");
}
