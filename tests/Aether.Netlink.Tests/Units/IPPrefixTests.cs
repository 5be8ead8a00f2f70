using System.Net;
using System.Net.Sockets;

namespace Aether.Netlink.Tests.Units;

public class IPPrefixTests
{
    [Theory]
    [InlineData("10.0.0.1/30", "10.0.0.1", 30, AddressFamily.InterNetwork)]
    [InlineData("10.0.0.1/0", "10.0.0.1", 0, AddressFamily.InterNetwork)]
    [InlineData("10.0.0.1/32", "10.0.0.1", 32, AddressFamily.InterNetwork)]
    [InlineData("192.0.2.7", "192.0.2.7", 32, AddressFamily.InterNetwork)]
    [InlineData("2001:db8::1/64", "2001:db8::1", 64, AddressFamily.InterNetworkV6)]
    [InlineData("::1/128", "::1", 128, AddressFamily.InterNetworkV6)]
    [InlineData("fe80::1", "fe80::1", 128, AddressFamily.InterNetworkV6)]
    public void Parses_valid_prefixes(string text, string address, int length, AddressFamily family)
    {
        var prefix = IPPrefix.Parse(text);

        Assert.Equal(IPAddress.Parse(address), prefix.Address);
        Assert.Equal(length, prefix.PrefixLength);
        Assert.Equal(family, prefix.Family);
        Assert.True(IPPrefix.TryParse(text, out var again));
        Assert.Equal(prefix, again);
    }

    [Theory]
    [InlineData("10.0.0.1/33")]
    [InlineData("::1/129")]
    [InlineData("10.1/16")]
    [InlineData("10.0.1")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("10.0.0.1/-1")]
    [InlineData("10.0.0.1/x")]
    [InlineData("10.0.0.1/")]
    [InlineData("10.0.0.1/ 24")]
    [InlineData("fe80::1%2/64")]
    [InlineData("10.0.0.1/24/8")]
    public void Rejects_invalid_prefixes(string text)
    {
        Assert.False(IPPrefix.TryParse(text, out var prefix));
        Assert.Equal(default, prefix);
        var error = Assert.Throws<ArgumentException>(() => IPPrefix.Parse(text));
        Assert.Equal("text", error.ParamName);
    }

    [Theory]
    [InlineData("10.0.0.1/33")]
    [InlineData("abc")]
    [InlineData("10.0.0.1/x")]
    public void Error_quotes_the_text(string text)
    {
        Assert.False(IPPrefix.TryParse(text, out _, out var error));

        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_is_rejected_by_TryParse() => Assert.False(IPPrefix.TryParse(null, out _));

    [Theory]
    [InlineData("10.1.2.3/16", "10.1.0.0")]
    [InlineData("10.1.2.3/20", "10.1.0.0")]
    [InlineData("10.1.255.3/23", "10.1.254.0")]
    [InlineData("10.1.2.3/0", "0.0.0.0")]
    [InlineData("10.1.2.3/32", "10.1.2.3")]
    [InlineData("2001:db8:1:2::5/33", "2001:db8::")]
    public void Network_clears_host_bits(string text, string network) =>
        Assert.Equal(IPAddress.Parse(network), IPPrefix.Parse(text).Network);

    [Theory]
    [InlineData("10.0.0.1/30")]
    [InlineData("2001:db8::1/64")]
    public void ToString_round_trips(string text) => Assert.Equal(text, IPPrefix.Parse(text).ToString());

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public void Constructor_rejects_lengths_outside_the_family(int length)
    {
        var error = Assert.Throws<ArgumentException>(() => new IPPrefix(IPAddress.Loopback, length));
        Assert.Contains(length.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1.0.0/24", "10.1.0.255", true)]
    [InlineData("10.1.0.0/24", "10.1.1.0", false)]
    [InlineData("10.1.0.0/24", "::ffff:10.1.0.1", false)]
    [InlineData("fd00::/64", "fd00::1", true)]
    public void Contains_an_address_of_its_family_within_its_bits(string prefix, string address, bool expected) =>
        Assert.Equal(expected, IPPrefix.Parse(prefix).Contains(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.1.0.0/24", "10.1.0.0/16", true)]
    [InlineData("10.1.0.0/16", "10.1.200.0/24", true)]
    [InlineData("10.1.0.0/24", "10.2.0.0/24", false)]
    [InlineData("10.0.0.0/8", "fd00::/8", false)]
    public void Overlaps_either_way(string a, string b, bool expected)
    {
        Assert.Equal(expected, IPPrefix.Parse(a).Overlaps(IPPrefix.Parse(b)));
        Assert.Equal(expected, IPPrefix.Parse(b).Overlaps(IPPrefix.Parse(a)));
    }
}
