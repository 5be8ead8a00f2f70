namespace Aether.Netlink.Tests.Units;

public class NetlinkExceptionTests
{
    [Fact]
    public void Message_names_operation_target_errno_and_kernel_text()
    {
        var error = new NetlinkException(Errno.EEXIST, "create veth", "veth-host", "Device already exists");

        Assert.Equal("create veth veth-host: EEXIST (File exists): Device already exists", error.Message);
        Assert.Equal(17, error.Errno);
        Assert.Equal("EEXIST", error.ErrnoName);
        Assert.Equal("create veth", error.Operation);
        Assert.Equal("veth-host", error.Target);
        Assert.Equal(-17, error.HResult);
        Assert.Equal("NetlinkException: " + error.Message, error.ToString());
    }

    [Theory]
    [InlineData("create veth", "veth-host", null, "create veth veth-host: EEXIST (File exists)")]
    [InlineData("create veth", "veth-host", "", "create veth veth-host: EEXIST (File exists)")]
    [InlineData("dump links", null, null, "dump links: EEXIST (File exists)")]
    [InlineData(null, "ignored", null, "EEXIST (File exists)")]
    public void Message_omits_what_is_missing(string? operation, string? target, string? kernel, string expected) =>
        Assert.Equal(expected, new NetlinkException(Errno.EEXIST, operation, target, kernel).Message);

    [Fact]
    public void Attribute_offset_is_kept() => Assert.Equal(36, new NetlinkException(22, "x", null, null, 36).AttributeOffset);

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1, "EPERM")]
    [InlineData(2, "ENOENT")]
    [InlineData(16, "EBUSY")]
    [InlineData(17, "EEXIST")]
    [InlineData(19, "ENODEV")]
    [InlineData(22, "EINVAL")]
    [InlineData(34, "ERANGE")]
    [InlineData(40, "ELOOP")]
    [InlineData(61, "ENODATA")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(99, "EADDRNOTAVAIL")]
    [InlineData(101, "ENETUNREACH")]
    [InlineData(105, "ENOBUFS")]
    [InlineData(524, "ENOTSUPP")]
    [InlineData(4242, "E4242")]
    [InlineData(-3, "E-3")]
    public void Errno_names(int errno, string name) => Assert.Equal(name, Errno.Name(errno));

    [Theory]
    [InlineData(2, "No such file or directory")]
    [InlineData(101, "Network is unreachable")]
    [InlineData(524, "Operation not supported")]
    public void Errno_messages(int errno, string text) => Assert.Equal(text, Errno.Message(errno));
}
