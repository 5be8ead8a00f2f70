using Aether.Server.Docker;

namespace Aether.Docker.Tests;

/// <summary>CreateNetwork's options and IPAM pool: every bad one named, all at once.</summary>
public sealed class NetworkOptionsTests
{
    [Fact]
    public void Docker_ipam_pool_is_the_network_and_its_gateway_the_gateway()
    {
        var parsed = NetworkOptions.Parse(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions()));
        Assert.Equal("10.71.0.0/24", parsed.Cidr.ToString());
        Assert.Equal("10.71.0.1", parsed.Gateway.ToString());
        Assert.False(parsed.Allocates);
        Assert.Equal(51901, parsed.Request.ListenPort);
        Assert.Equal("10.71.0.0/24", parsed.Request.NetworkCidr);
    }

    [Fact]
    public void Null_ipam_takes_cidr_and_gateway_from_the_options_and_allocates()
    {
        var options = Messages.GoodOptions();
        options["cidr"] = "10.72.0.0/24";
        options["gateway"] = "10.72.0.1";
        options["keepalive"] = "25";
        var parsed = NetworkOptions.Parse(Messages.CreateNetwork(Messages.NetworkId('a'), options, pool: "0.0.0.0/0", gateway: ""));
        Assert.True(parsed.Allocates);
        Assert.Equal("10.72.0.0/24", parsed.Cidr.ToString());
        Assert.Equal(25, parsed.Request.PersistentKeepalive);
    }

    [Theory]
    [InlineData("port", "0", "-o port: '0' is not an integer 1-65535")]
    [InlineData("port", "70000", "-o port: '70000' is not an integer 1-65535")]
    [InlineData("port", "x1", "-o port: 'x1' is not an integer 1-65535")]
    [InlineData("keepalive", "-1", "-o keepalive: '-1' is not an integer 0-65535")]
    [InlineData("cidr", "10.71.0.0/16", "-o cidr: 10.71.0.0/16 differs from docker's pool 10.71.0.0/24")]
    [InlineData("cidr", "banana", "-o cidr: 'banana' is not an IPv4 network")]
    [InlineData("gateway", "10.71.0.9", "-o gateway: 10.71.0.9 differs from docker's gateway 10.71.0.1")]
    [InlineData("gateway", "fe80::1", "-o gateway: 'fe80::1' is not an IPv4 address")]
    [InlineData("colour", "blue", "-o colour: unknown option (allowed: key, port, peer-endpoint, peer-key, cidr, gateway, keepalive)")]
    public void A_bad_option_is_named(string option, string value, string expected)
    {
        var options = Messages.GoodOptions();
        options[option] = value;
        var e = Assert.Throws<DriverException>(() => NetworkOptions.Parse(Messages.CreateNetwork(Messages.NetworkId('a'), options)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_option_is_reported_at_once()
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal) { ["port"] = "nope", ["cidr"] = "10.0.0.0/8", ["gateway"] = "x" };
        var e = Assert.Throws<DriverException>(() => NetworkOptions.Parse(Messages.CreateNetwork("bad id!", options, pool: "0.0.0.0/0", gateway: "")));
        Assert.Contains("NetworkID:", e.Message, StringComparison.Ordinal);
        Assert.Contains("-o port: 'nope'", e.Message, StringComparison.Ordinal);
        Assert.Contains("-o key: required", e.Message, StringComparison.Ordinal);
        Assert.Contains("-o gateway: 'x' is not an IPv4 address", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-o cidr", e.Message, StringComparison.Ordinal); // given and well formed
    }

    [Fact]
    public void Null_ipam_without_cidr_and_gateway_names_both()
    {
        var e = Assert.Throws<DriverException>(() => NetworkOptions.Parse(Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions(), pool: "0.0.0.0/0", gateway: "")));
        Assert.Contains("-o cidr: required with --ipam-driver null", e.Message, StringComparison.Ordinal);
        Assert.Contains("-o gateway: required with --ipam-driver null", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ipv6_and_several_pools_are_refused()
    {
        var message = Messages.CreateNetwork(Messages.NetworkId('a'), Messages.GoodOptions()) with
        {
            IPv4Data = [new IpamData { Pool = "10.1.0.0/24" }, new IpamData { Pool = "10.2.0.0/24" }],
            IPv6Data = [new IpamData { Pool = "fd00::/64" }],
        };
        var e = Assert.Throws<DriverException>(() => NetworkOptions.Parse(message));
        Assert.Contains("--ipv6: not supported", e.Message, StringComparison.Ordinal);
        Assert.Contains("IPv4Data: one pool is allowed, 2 given", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hub_fields_are_told_as_options()
    {
        Assert.Equal("-o key", NetworkOptions.OptionFor("privateKey"));
        Assert.Equal("-o peer-key", NetworkOptions.OptionFor("peerPublicKey"));
        Assert.Equal("-o cidr", NetworkOptions.OptionFor("networkCidr"));
        Assert.Equal("index", NetworkOptions.OptionFor("index"));
    }
}
