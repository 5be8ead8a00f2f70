using System.Security.Cryptography;

namespace Aether.WireGuard.Tests.Keys;

/// <summary>Keys against wg(8) itself: the public key of a private key, and the text forms wg accepts.</summary>
public sealed class KeyTests
{
    [Fact]
    public async Task A_thousand_random_private_keys_give_the_public_key_wg_pubkey_gives()
    {
        // Raw random bytes, most of them unclamped: wg pubkey clamps before multiplying, and so must we. One shell
        // runs wg pubkey once per line, so the thousand calls cost one process start from here.
        var privates = Enumerable.Range(0, 1000).Select(_ => WireGuardSecretKey.FromBytes(RandomNumberGenerator.GetBytes(32))).ToArray();
        var input = string.Join('\n', privates.Select(k => k.ToBase64())) + "\n";
        var output = await Wg.ShellAsync("while read -r key; do printf '%s\\n' \"$key\" | wg pubkey || exit 1; done", input);

        var expected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(privates.Length, expected.Length);
        for (var i = 0; i < privates.Length; i++)
        {
            Assert.Equal(expected[i], privates[i].GetPublicKey().ToString());
        }
    }

    [Fact]
    public async Task Generated_private_keys_are_clamped_and_wg_accepts_them()
    {
        for (var i = 0; i < 50; i++)
        {
            var key = WireGuardSecretKey.GeneratePrivate();
            var bytes = key.Bytes;
            Assert.Equal(0, bytes[0] & 7);
            Assert.Equal(0, bytes[31] & 128);
            Assert.Equal(64, bytes[31] & 64);
            if (i < 5)
            {
                var pub = (await Wg.RequireAsync(key.ToBase64() + "\n", "pubkey")).Trim();
                Assert.Equal(pub, key.GetPublicKey().ToString());
            }
        }
    }

    [Fact]
    public async Task A_key_made_by_wg_genkey_round_trips_and_gives_the_same_public_key()
    {
        var text = (await Wg.RequireAsync(null, "genkey")).Trim();
        var key = WireGuardSecretKey.Parse(text);
        Assert.Equal(text, key.ToBase64());
        Assert.Equal((await Wg.RequireAsync(text + "\n", "pubkey")).Trim(), key.GetPublicKey().ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("aGVsbG8gd29ybGQ=")]
    [InlineData("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE")] // 43 characters: no padding
    [InlineData("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWF=")] // non-canonical: the last character's low bits are set
    [InlineData("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW==")] // 31 bytes
    [InlineData(" YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=")]
    [InlineData("YWFhYWFh*WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=")]
    public async Task Text_that_wg_refuses_is_refused(string text)
    {
        var (code, _, stderr) = await Wg.RunAsync(text, "pubkey");
        Assert.True(code != 0, "wg accepted it: the case is not a refusal");
        Assert.StartsWith("wg: ", stderr, StringComparison.Ordinal);
        Assert.False(WireGuardKey.TryParse(text, out _));
        Assert.False(WireGuardSecretKey.TryParse(text, out _));
    }

    [Fact]
    public void Secret_keys_never_print_themselves()
    {
        var key = WireGuardSecretKey.GeneratePrivate();
        Assert.Equal("(hidden)", key.ToString());
        Assert.Equal("(none)", WireGuardSecretKey.Zero.ToString());
        var device = new WireGuardDevice { Name = "wg0", PrivateKey = key, PublicKey = key.GetPublicKey() };
        var config = new WireGuardDeviceConfig { PrivateKey = key, Peers = [new WireGuardPeerConfig(key.GetPublicKey()) { PresharedKey = key }] };
        foreach (var text in new[] { device.ToString(), config.ToString(), config.Peers[0].ToString() })
        {
            Assert.DoesNotContain(key.ToBase64(), text, StringComparison.Ordinal);
            Assert.DoesNotContain(key.ToHex(), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Hex_and_base64_forms_agree()
    {
        var key = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
        Assert.True(WireGuardKey.TryParseHex(key.ToHex(), out var fromHex));
        Assert.Equal(key, fromHex);
        Assert.Equal(key, WireGuardKey.Parse(key.ToString()));
        Assert.Equal(Convert.ToHexStringLower(Convert.FromBase64String(key.ToString())), key.ToHex());
        Assert.False(WireGuardKey.TryParseHex(key.ToHex().AsSpan(0, 62), out _));
        Assert.False(WireGuardKey.TryParseHex(string.Concat(key.ToHex().AsSpan(0, 62), "zz"), out _));
    }
}
