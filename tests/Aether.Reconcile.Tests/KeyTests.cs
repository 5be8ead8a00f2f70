namespace Aether.Reconcile.Tests;

public sealed class KeyTests
{
    [Fact]
    public void Scopes_are_equal_by_namespace_name_and_the_host_is_the_default()
    {
        Assert.Equal(Scope.Host, default);
        Assert.True(Scope.Host.IsHost);
        Assert.Equal(Scope.Namespace("blue"), Scope.Namespace("blue"));
        Assert.NotEqual(Scope.Namespace("blue"), Scope.Namespace("Blue"));
        Assert.NotEqual(Scope.Host, Scope.Namespace("blue"));
        Assert.Null(Scope.Host.Name);
        Assert.Equal("blue", Scope.Namespace("blue").Name);
        Assert.Throws<ArgumentException>(() => Scope.Namespace(""));
    }

    [Fact]
    public void Scopes_read_as_people_write_them()
    {
        Assert.Equal("host", Scope.Host.ToString());
        Assert.Equal("blue", Scope.Namespace("blue").ToString());
        Assert.Equal("veth0", Scope.Host.Qualify("veth0"));
        Assert.Equal("blue/veth0", Scope.Namespace("blue").Qualify("veth0"));
        Assert.Equal("the host", Scope.Host.Describe());
        Assert.Equal("blue", Scope.Namespace("blue").Describe());
    }

    [Theory]
    [InlineData(ObjectKind.Link, "veth0", null, "link veth0")]
    [InlineData(ObjectKind.LinkPeer, "veth0", null, "peer of link veth0")]
    [InlineData(ObjectKind.Address, "10.0.0.1/24", "eth0", "address 10.0.0.1/24 on eth0")]
    [InlineData(ObjectKind.Route, "route 254 0.0.0.0/0 metric 0", null, "route 254 0.0.0.0/0 metric 0")]
    [InlineData(ObjectKind.Sysctl, "net.ipv4.ip_forward", null, "sysctl net.ipv4.ip_forward")]
    [InlineData(ObjectKind.NftablesTable, "inet aether-lab", null, "nftables inet aether-lab")]
    [InlineData(ObjectKind.WireGuardDevice, "wg0", null, "wireguard wg0")]
    [InlineData(ObjectKind.WireGuardPeer, "AbCdEfGh…", "wg0", "peer AbCdEfGh… on wg0")]
    [InlineData(ObjectKind.Namespace, "blue", null, "namespace blue")]
    public void A_key_names_its_object_as_its_source_does(ObjectKind kind, string name, string? parent, string expected) =>
        Assert.Equal(expected, new ObjectKey(kind, Scope.Namespace("blue"), name, parent).ToString());

    [Fact]
    public void Keys_are_equal_by_kind_scope_and_name_parts()
    {
        var a = ObjectKey.Address(Scope.Namespace("blue"), "eth0", "10.0.0.1/24");
        Assert.Equal(a, ObjectKey.Address(Scope.Namespace("blue"), "eth0", "10.0.0.1/24"));
        Assert.NotEqual(a, ObjectKey.Address(Scope.Host, "eth0", "10.0.0.1/24"));
        Assert.NotEqual(a, ObjectKey.Address(Scope.Namespace("blue"), "eth1", "10.0.0.1/24"));
        Assert.NotEqual(ObjectKey.Link(Scope.Host, "veth0"), ObjectKey.LinkPeer(Scope.Host, "veth0"));
        Assert.Single(new[] { a, ObjectKey.Address(Scope.Namespace("blue"), "eth0", "10.0.0.1/24") }.ToHashSet());
    }

    [Fact]
    public void Operations_are_equal_by_value_whether_or_not_their_target_was_made()
    {
        var key = ObjectKey.Link(Scope.Host, "veth0");
        var one = new Operation(OperationKind.Create, Stage.Links, key, "missing");
        var two = new Operation(OperationKind.Create, Stage.Links, key, "missing");
        Assert.Equal("link veth0", one.Target);
        Assert.Equal(one, two);
        Assert.Equal(one.GetHashCode(), two.GetHashCode());
        Assert.NotEqual(one, two with { Conflict = true });
        Assert.NotEqual(one, two with { Stage = Stage.Addresses });
    }
}
