namespace Aether.Netlink.Tests.Units;

public class NetlinkBatchResultTests
{
    private static readonly NetlinkException First = new(Errno.EEXIST, "create veth", "a");
    private static readonly NetlinkException Second = new(Errno.ENODEV, "add address", "10.0.0.1/24 on ifindex 9");

    [Fact]
    public void Success_does_not_throw()
    {
        var result = new NetlinkBatchResult(new NetlinkException?[3], 0);

        Assert.True(result.Succeeded);
        result.ThrowIfFailed();
    }

    [Fact]
    public void One_failure_is_thrown_as_is()
    {
        var result = new NetlinkBatchResult([null, First, null], 1);

        Assert.False(result.Succeeded);
        Assert.Same(First, Assert.Throws<NetlinkException>(result.ThrowIfFailed));
    }

    [Fact]
    public void Several_failures_are_thrown_together_in_order()
    {
        var result = new NetlinkBatchResult([First, null, Second], 2);

        var error = Assert.Throws<AggregateException>(result.ThrowIfFailed);

        Assert.Equal([First, Second], error.InnerExceptions);
        Assert.StartsWith("2 of 3 netlink requests failed", error.Message, StringComparison.Ordinal);
    }
}
