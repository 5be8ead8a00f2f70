using Aether.Netlink.Namespaces;

namespace Aether.Netlink.Tests.Units;

/// <summary>Key parsing as sysctl(8) does it; no kernel needed.</summary>
public class SysctlKeyTests
{
    [Theory]
    [InlineData("net.ipv4.ip_forward", "net/ipv4/ip_forward")]
    [InlineData("net/ipv4/ip_forward", "net/ipv4/ip_forward")]
    [InlineData("net.ipv6.conf.all.forwarding", "net/ipv6/conf/all/forwarding")]
    [InlineData("net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/eth0.100/forwarding")] // with '/', dots are literal
    [InlineData("net.ipv4.conf.veth-a.rp_filter", "net/ipv4/conf/veth-a/rp_filter")]
    [InlineData("net/core", "net/core")]
    public void Normalises_dotted_and_slashed_keys(string key, string expected)
    {
        Assert.Equal(expected, Sysctl.NormalizeKey(key));
        Assert.True(Sysctl.TryNormalizeKey(key, out var normalized, out var error), error);
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/proc/sys/net/ipv4/ip_forward", "absolute")]
    [InlineData("/net/ipv4/ip_forward", "absolute")]
    [InlineData("net..ipv4.ip_forward", "empty segment")]
    [InlineData("net//ipv4/ip_forward", "empty segment")]
    [InlineData("net/ipv4/", "empty segment")]
    [InlineData("net.ipv4.", "empty segment")]
    [InlineData(".net.ipv4", "empty segment")]
    [InlineData("net/../kernel/hostname", "'..' segment")]
    [InlineData("net/ipv4/conf/../../../kernel/hostname", "'..' segment")]
    [InlineData("net/./ipv4/ip_forward", "'.' segment")]
    [InlineData("net/ipv4/ip_forward\0", "NUL")]
    [InlineData("net.ipv4.ip forward", "whitespace")]
    [InlineData(" net.ipv4.ip_forward", "whitespace")]
    [InlineData("net.ipv4.ip_forward\n", "whitespace")]
    [InlineData("kernel.hostname", "below net")]
    [InlineData("vm/swappiness", "below net")]
    [InlineData("network.x", "below net")]
    [InlineData("net", "below net")]
    public void Rejects_keys_that_are_not_namespace_entries(string key, string reason)
    {
        Assert.False(Sysctl.TryNormalizeKey(key, out _, out var why));
        Assert.Contains(reason, why, StringComparison.Ordinal);
        var error = Assert.Throws<ArgumentException>(() => Sysctl.NormalizeKey(key));
        Assert.Equal("key", error.ParamName);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Opening_validates_the_key_before_entering_the_namespace()
    {
        // The key is checked first: a closed namespace handle is never reached.
        var ns = NetworkNamespace.OpenCurrent();
        ns.Dispose();
        Assert.Throws<ArgumentException>(() => Sysctl.Open(ns, "kernel.hostname"));
        Assert.Throws<ArgumentException>(() => Sysctl.OpenAll(ns, ["net.ipv4.ip_forward", "net/../etc"]));
        Assert.Throws<ObjectDisposedException>(() => Sysctl.Open(ns, "net.ipv4.ip_forward"));
    }

    [Theory]
    [InlineData("net/ipv4/ip_forward", "net.ipv4.ip_forward")]
    [InlineData("net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/eth0.100/forwarding")]
    public void Formats_keys_as_sysctl_shows_them(string key, string shown) => Assert.Equal(shown, Sysctl.FormatKey(key));

    [Theory]
    [InlineData("1", "1", true)]
    [InlineData("1", " 1\n", true)]
    [InlineData("32768\t60999", "32768 60999", true)]
    [InlineData("32768\t60999", "32768  60999\n", true)]
    [InlineData("32768\t60999", "32768 61000", false)]
    [InlineData("32768\t60999", "32768", false)]
    [InlineData("0", "1", false)]
    [InlineData("01", "1", false)] // compared as text, as the kernel prints it
    public void Compares_values_field_by_field(string a, string b, bool equal)
    {
        Assert.Equal(equal, Sysctl.ValuesEqual(a, b));
        Assert.Equal(equal, Sysctl.ValuesEqual(b, a));
    }

    [Fact]
    public void Normalises_values_to_single_spaced_fields() => Assert.Equal("32768 60999", Sysctl.NormalizeValue(" 32768\t 60999\n"));
}
