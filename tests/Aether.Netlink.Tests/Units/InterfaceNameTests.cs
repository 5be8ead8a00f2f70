using Aether.Netlink.Names;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.Tests.Units;

public class InterfaceNameTests
{
    [Theory]
    [InlineData("eth0")]
    [InlineData("veth-host")]
    [InlineData("a")]
    [InlineData("..a")]
    [InlineData("abcdefghijklmno")] // 15 bytes, the limit
    [InlineData("ééééééé")] //         7 characters, 14 bytes
    [InlineData("éééééééa")] //        8 characters, 15 bytes
    public void Accepts_names_the_kernel_accepts(string name)
    {
        Assert.True(InterfaceName.IsValid(name, out var why), why);
        InterfaceName.Validate(name);
    }

    [Theory]
    [InlineData("abcdefghijklmnop", "16 bytes")] // 16 bytes
    [InlineData("éééééééé", "16 bytes")] //          8 characters but 16 bytes
    [InlineData("a/b", "'/'")]
    [InlineData("a b", "whitespace")]
    [InlineData("a\tb", "whitespace")]
    [InlineData("a:b", "':'")]
    [InlineData("a\0b", "NUL")]
    [InlineData("", "empty")]
    [InlineData(".", "reserved")]
    [InlineData("..", "reserved")]
    [InlineData("eth%d", "template")] // dev_alloc_name would make it eth0: no interface is ever named so
    public void Rejects_names_the_kernel_refuses(string name, string reason)
    {
        Assert.False(InterfaceName.IsValid(name, out var why));
        Assert.Contains(reason, why, StringComparison.Ordinal);

        var error = Assert.Throws<ArgumentException>(() => InterfaceName.Validate(name, "PeerName"));
        Assert.Contains(NameText.Quote(name), error.Message, StringComparison.Ordinal);
        Assert.Equal("PeerName", error.ParamName);
    }

    [Fact]
    public void Rejects_null() => Assert.Throws<ArgumentException>(() => InterfaceName.Validate(null));
}
