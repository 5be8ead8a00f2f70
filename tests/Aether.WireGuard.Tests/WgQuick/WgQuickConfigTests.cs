using Aether.WireGuard;

namespace Aether.WireGuard.Tests.WgQuick;

/// <summary>wg-quick configuration files: read as wg-quick reads them, written so that wg-quick (and this reader) read
/// the same thing back, and every malformed line named by its number. <c>wg-quick strip</c> is the oracle for what
/// wg-quick itself takes from a written file.</summary>
public sealed class WgQuickConfigTests
{
    private static readonly string Private = WireGuardSecretKey.GeneratePrivate().ToBase64();
    private static readonly string PeerKey = WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
    private static readonly string Psk = WireGuardSecretKey.GeneratePreshared().ToBase64();

    private static string Sample => $"""
        # a comment
        [Interface]
        privatekey = {Private}   # keys are case-insensitive, comments may trail
        ListenPort = 51820
        Address = 10.8.0.1/24, fd00::1/64
        DNS = 1.1.1.1
        PostUp = iptables -A FORWARD -i %i -j ACCEPT

        [Peer]
        PublicKey = {PeerKey}
        PresharedKey = {Psk}
        Endpoint = vpn.example.net:51821
        AllowedIPs = 10.8.0.2/32
        AllowedIPs = 192.168.7.0/24
        PersistentKeepalive = 25
        """;

    [Fact]
    public void A_file_is_read_with_every_field_and_the_host_keys_kept_by_name()
    {
        var config = WgQuickConfig.Parse(Sample);
        Assert.Equal(Private, config.PrivateKey!.Value.ToBase64());
        Assert.Equal(51820, config.ListenPort);
        Assert.Equal(["10.8.0.1/24", "fd00::1/64"], config.Addresses.Select(a => a.ToString()));
        Assert.Equal(["DNS", "PostUp"], config.HostKeys.Select(k => k.Key));
        var peer = Assert.Single(config.Peers);
        Assert.Equal(PeerKey, peer.PublicKey.ToString());
        Assert.Equal(Psk, peer.PresharedKey!.Value.ToBase64());
        Assert.Equal("vpn.example.net:51821", peer.Endpoint);
        Assert.Equal(["10.8.0.2/32", "192.168.7.0/24"], peer.AllowedIps.Select(a => a.ToString()));
        Assert.Equal(25, peer.PersistentKeepalive);
    }

    [Fact]
    public void What_is_written_reads_back_the_same()
    {
        var config = WgQuickConfig.Parse(Sample);
        var again = WgQuickConfig.Parse(config.ToText(["first", "second"]));
        Assert.Equal(config.PrivateKey, again.PrivateKey);
        Assert.Equal(config.ListenPort, again.ListenPort);
        Assert.Equal(config.Addresses, again.Addresses);
        Assert.Equal(config.HostKeys, again.HostKeys);
        Assert.Equal(config.Peers[0].PublicKey, again.Peers[0].PublicKey);
        Assert.Equal(config.Peers[0].AllowedIps, again.Peers[0].AllowedIps);
        Assert.Equal(config.Peers[0].Endpoint, again.Peers[0].Endpoint);
        Assert.StartsWith("# first\n# second\n[Interface]\n", config.ToText(["first", "second"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wg_quick_strip_takes_from_a_written_file_what_this_reader_took()
    {
        var dir = Directory.CreateTempSubdirectory("aetwgq");
        try
        {
            var config = WgQuickConfig.Parse(Sample);
            var file = Path.Combine(dir.FullName, "aetq0.conf");
            await File.WriteAllTextAsync(file, config.ToText());
            var (code, stdout, stderr) = await Ip.ExecAsync("wg-quick", "strip", file);
            Assert.True(code == 0, stderr);
            Assert.Contains("PrivateKey = " + Private, stdout, StringComparison.Ordinal);
            Assert.Contains("ListenPort = 51820", stdout, StringComparison.Ordinal);
            Assert.Contains("AllowedIPs = 10.8.0.2/32, 192.168.7.0/24", stdout, StringComparison.Ordinal);
            // wg-quick's own keys, stripped. Matched as keys at a line's start: a random base64 key may hold "DNS".
            var keys = stdout.Split('\n').Select(line => line.Split('=')[0].Trim()).ToList();
            Assert.DoesNotContain("Address", keys);
            Assert.DoesNotContain("DNS", keys);
            Assert.Contains("PrivateKey", keys);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("ListenPort = 1\n", "line 1: ListenPort is outside any section")]
    [InlineData("[Interface]\nListenPort = 70000\n", "line 2: ListenPort '70000' is not a port (0 to 65535)")]
    [InlineData("[Interface]\nPrivateKey = abc\n", "line 2: PrivateKey is not a WireGuard key")]
    [InlineData("[Interface]\nColour = blue\n", "line 2: unknown key Colour in [Interface]")]
    [InlineData("[Interface]\n[Peer]\nAllowedIPs = 10.0.0.0/8\n", "line 2: a [Peer] without PublicKey")]
    [InlineData("[Interface]\n[Peer]\nAllowedIPs = 10.0.0.1\n", "line 3: AllowedIPs '10.0.0.1' is not a prefix such as 10.1.0.0/24")]
    [InlineData("[Interface]\n[Peer]\nEndpoint = 10.0.0.1\n", "line 3: Endpoint '10.0.0.1' is not HOST:PORT")]
    [InlineData("[Interface]\njust words\n", "line 2: 'just words' is not a section or Key = Value")]
    [InlineData("[Interface]\n[Interface]\n", "line 2: a second [Interface] section")]
    [InlineData("[Wat]\n", "line 1: unknown section [Wat]")]
    [InlineData("# nothing\n", "no [Interface] section")]
    public void A_malformed_file_names_its_line(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => WgQuickConfig.Parse(text));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }
}
