using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class MacAddressTests
{
    [Theory]
    [InlineData("aa:bb:cc:dd:ee:ff", new byte[] { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff })]
    [InlineData("AA:BB:CC:00:01:02", new byte[] { 0xaa, 0xbb, 0xcc, 0x00, 0x01, 0x02 })]
    [InlineData("02:00:00:00:00:01", new byte[] { 0x02, 0, 0, 0, 0, 0x01 })]
    [InlineData("7f", new byte[] { 0x7f })]
    public void Parses_colon_separated_hex(string text, byte[] bytes) => Assert.Equal(bytes, MacAddress.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("aabbccddeeff")]
    [InlineData("aa-bb-cc-dd-ee-ff")]
    [InlineData("aa:bb:cc:dd:ee:gg")]
    [InlineData("a:bb:cc:dd:ee:ff")]
    [InlineData("aaa:bb:cc:dd:ee:ff")]
    [InlineData("aa:bb:cc:dd:ee:")]
    [InlineData("+a:bb")]
    public void Rejects_malformed_text_quoting_it(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => MacAddress.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_more_than_32_bytes()
    {
        var text = string.Join(':', Enumerable.Repeat("01", 33));

        Assert.Throws<ArgumentException>(() => MacAddress.Parse(text));
        Assert.Equal(32, MacAddress.Parse(string.Join(':', Enumerable.Repeat("01", 32))).Length);
    }

    [Theory]
    [InlineData(new byte[] { 0xf6, 0x1e, 0x5a, 0x15, 0x48, 0x39 }, "f6:1e:5a:15:48:39")]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0 }, "00:00:00:00:00:00")]
    [InlineData(new byte[] { 0xAB }, "ab")]
    [InlineData(new byte[0], "")]
    public void Formats_lowercase_colon_separated(byte[] bytes, string text) => Assert.Equal(text, MacAddress.Format(bytes));

    [Fact]
    public void Parse_then_Format_normalises_case() =>
        Assert.Equal("aa:bb:cc:dd:ee:0f", MacAddress.Format(MacAddress.Parse("AA:bb:Cc:DD:ee:0F")));
}
