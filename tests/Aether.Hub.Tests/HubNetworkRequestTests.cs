using Aether.WireGuard;

namespace Aether.Hub.Tests;

public sealed class HubNetworkRequestTests
{
    private static readonly WireGuardSecretKey Key = WireGuardSecretKey.GeneratePrivate();
    private static readonly WireGuardKey Peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey();

    private static HubNetworkRequest Good => new()
    {
        NetworkId = "net-1",
        Index = 3,
        Container = "blue",
        PrivateKey = Key.ToBase64(),
        ListenPort = 51820,
        PeerEndpoint = "192.0.2.7:51820",
        PeerPublicKey = Peer.ToString(),
        Address = "10.1.0.2",
        NetworkCidr = "10.1.0.0/24",
        Gateway = "10.1.0.1",
    };

    [Fact]
    public void A_good_request_gives_the_names_and_keys_and_is_normalised()
    {
        var spec = (Good with { Address = "10.1.0.2/24", PeerEndpoint = "[2001:db8::1]:51820" }).Validate();
        Assert.Equal(("wg3", "veth-root3", "eth3"), (spec.WgName, spec.VethRootName, spec.EthName));
        Assert.Equal(Key.GetPublicKey(), spec.PublicKey);
        Assert.Equal("10.1.0.2", spec.Request.Address);
        Assert.Equal("[2001:db8::1]:51820", spec.Request.Peers!.Single().Endpoint);
        Assert.Null(spec.Request.PeerEndpoint); // the single-peer fields are kept as the one peer of the map
        Assert.True(spec.SameAs((Good with { PeerEndpoint = "[2001:db8::1]:51820" }).Validate()));
        Assert.False(spec.SameAs(Good.Validate()));
        Assert.Equal("pid:42", (Good with { Container = null, ContainerPid = 42 }).Validate().Container);
    }

    [Theory]
    [InlineData("networkId", "")]
    [InlineData("networkId", "a b")]
    [InlineData("index", "-1")]
    [InlineData("index", "10000")]
    [InlineData("container", "")]
    [InlineData("container", "a/b")]
    [InlineData("container", "/proc/../etc")]
    [InlineData("container", "ns%d")]
    [InlineData("container", "ns\u001b[0m")]
    [InlineData("container", "ns\u202e")]
    [InlineData("container", "ns*")]
    [InlineData("container", "..")]
    [InlineData("container", "-ns")]
    [InlineData("privateKey", "short")]
    [InlineData("listenPort", "0")]
    [InlineData("listenPort", "65536")]
    [InlineData("peerEndpoint", "192.0.2.7")]
    [InlineData("peerEndpoint", "192.0.2.7:0")]
    [InlineData("peerEndpoint", "2001:db8::1:51820")]
    [InlineData("peerPublicKey", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("networkCidr", "10.1.0.0")]
    [InlineData("networkCidr", "10.1.0.1/24")]
    [InlineData("networkCidr", "10.1.0.0/33")]
    [InlineData("networkCidr", "fd00::/64")]
    [InlineData("address", "10.2.0.2")]
    [InlineData("address", "10.1.0.0")]
    [InlineData("address", "10.1.0.255")]
    [InlineData("address", "10.1.0.2/16")]
    [InlineData("gateway", "10.1.0.2")]
    [InlineData("gateway", "10.1.0.1/24")]
    [InlineData("gateway", "nope")]
    public void A_bad_field_is_named(string field, string value)
    {
        var request = field switch
        {
            "networkId" => Good with { NetworkId = value },
            "index" => Good with { Index = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "container" => Good with { Container = value },
            "privateKey" => Good with { PrivateKey = value },
            "listenPort" => Good with { ListenPort = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "peerEndpoint" => Good with { PeerEndpoint = value },
            "peerPublicKey" => Good with { PeerPublicKey = value },
            "networkCidr" => Good with { NetworkCidr = value },
            "address" => Good with { Address = value },
            "gateway" => Good with { Gateway = value },
            _ => throw new ArgumentException(field),
        };
        var error = Assert.Throws<HubException>(() => request.Validate());
        Assert.Equal(HubErrorKind.Invalid, error.Kind);
        Assert.Contains(field, error.Errors.Select(e => e.Field));
    }

    [Theory]
    [InlineData("ns\u001b[0m", "'ns\\u001B[0m': U+001B is not allowed in a namespace name (ESC")]
    [InlineData("ns\u202ex", "U+202E is not allowed in a namespace name")]
    [InlineData("ns%d", "'%' (U+0025) is not allowed in a namespace name")]
    public void A_container_name_says_why_and_what_is_allowed_and_prints_safely(string container, string why)
    {
        var error = Assert.Throws<HubException>(() => (Good with { Container = container }).Validate()).Errors.Single();
        Assert.Equal("container", error.Field);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("allowed: 1-255 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', error.Message);
        Assert.DoesNotContain('\u202e', error.Message);
    }

    [Fact]
    public void A_container_name_with_dots_and_dashes_is_fine() =>
        Assert.Equal("my.ctr-1_a", (Good with { Container = "my.ctr-1_a" }).Validate().Container);

    [Fact]
    public void Every_missing_field_is_reported_at_once_and_keys_never_print()
    {
        var error = Assert.Throws<HubException>(() => new HubNetworkRequest().Validate());
        Assert.Equal(
            ["networkId", "index", "privateKey", "listenPort", "networkCidr", "gateway"],
            error.Errors.Select(e => e.Field));

        // A network alone needs no container, address or peer; an address without a container, or an endpoint
        // without a key, is refused.
        var alone = (Good with { Container = null, Address = null, PeerEndpoint = null, PeerPublicKey = null }).Validate();
        Assert.Null(alone.Container);
        Assert.Empty(alone.Peers);
        var half = Assert.Throws<HubException>(() => (Good with { Container = null, PeerPublicKey = null }).Validate());
        Assert.Equal(["address", "peerPublicKey"], half.Errors.Select(e => e.Field));
        var own = Assert.Throws<HubException>(() => (Good with { PeerPublicKey = Key.GetPublicKey().ToString() }).Validate());
        Assert.Equal("peerPublicKey", own.Errors.Single().Field);
        var both = Assert.Throws<HubException>(() => (Good with { ContainerPid = 5 }).Validate());
        Assert.Equal("container", both.Errors.Single().Field);
        Assert.DoesNotContain(Key.ToBase64(), Good.ToString() + Good.Validate().ToString() + own.Message, StringComparison.Ordinal);
        Assert.Contains("(hidden)", Good.ToString(), StringComparison.Ordinal);
    }
}
