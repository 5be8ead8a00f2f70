using System.Text;
using Aether.Netlink;
using Aether.WireGuard.Userspace;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.WireGuard.Tests.Uapi;

/// <summary>
/// The UAPI text protocol: what is written is read back the same, and arbitrary or damaged text is either read or
/// refused with <see cref="FormatException"/>, never anything else, never a hang (each property runs under a
/// deadline), and never with a secret quoted in the message.
/// </summary>
public sealed class UapiProtocolProperties
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private static readonly string[] Keys =
    [
        "private_key", "listen_port", "fwmark", "replace_peers", "public_key", "remove", "update_only", "preshared_key",
        "endpoint", "persistent_keepalive_interval", "replace_allowed_ips", "allowed_ip", "protocol_version",
        "last_handshake_time_sec", "last_handshake_time_nsec", "tx_bytes", "rx_bytes", "errno", "set", "get", "x",
    ];

    private static readonly string[] Values =
    [
        "", "0", "1", "-1", "true", "false", "65535", "65536", "4294967296", "18446744073709551616", "-22", "999999999999",
        "1000000000", "253402300800", new string('0', 64), new string('f', 64), new string('g', 64), new string('a', 63),
        "10.0.0.1/24", "10.0.0.1", "10.1/8", "::/0", "fd00::1/129", "1.2.3.4:51820", "[::1]:1", "[::1]", "1.2.3.4:0",
        "1.2.3.4:65536", "[1.2.3.4]:80", "::1:80", "[fe80::1%2]:51820", " 1", "1 ", "=", "==", "\r",
    ];

    /// <summary>Lines made of protocol keys and nasty values, framed or not.</summary>
    private static readonly Gen<string> ProtocolLike =
        from count in Gen.Choose(0, 12)
        from lines in Gen.ListOf(
            Gen.Frequency(
                (6, from k in Gen.Elements(Keys) from v in Gen.Elements(Values) select k + "=" + v),
                (1, Gen.Elements("", "=", "novalue", "errno=0", "public_key=" + new string('1', 64)))),
            count)
        from ending in Gen.Elements("\n\n", "\n", "", "\n\nextra", "\nerrno=0\n\n", "errno=0\n\n")
        select string.Join('\n', lines) + ending;

    private static readonly Gen<string> RandomText =
        from length in Gen.Choose(0, 300)
        from chars in Gen.ArrayOf(Gen.Frequency(
            (6, Gen.Elements("=\n0123456789abcdef_.:/[]".ToCharArray())),
            (2, Gen.Choose(32, 126).Select(c => (char)c)),
            (1, Gen.Choose(0, 0xFFFF).Select(c => (char)c))), length)
        select new string(chars);

    /// <summary>Valid answers and requests, then damaged: characters replaced, lines dropped, duplicated or cut.</summary>
    private static readonly Gen<string> Mutated =
        from device in Generators.Device
        from config in Generators.Config
        from text in Gen.Elements(UapiProtocol.FormatGet(device), UapiProtocol.FormatSet(config))
        from mutations in Gen.ListOf(
            from kind in Gen.Choose(0, 4)
            from position in Gen.Choose(0, 100_000)
            from c in Gen.Elements("=\n0aZ:/[ -".ToCharArray())
            select (kind, position, c),
            3)
        select Mutate(text, mutations);

    /// <summary>Valid answers and requests with a few values swapped for edge cases: the structure stays right, so
    /// the parser gets past framing into every field's own checks.</summary>
    private static readonly Gen<string> ValueSwapped =
        from device in Generators.Device.Where(d => d.Peers.Count > 0)
        from config in Generators.Config
        from text in Gen.Elements(UapiProtocol.FormatGet(device), UapiProtocol.FormatSet(config))
        from swaps in Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(Gen.Choose(0, 1000).SelectMany(line => Gen.Elements(Values).Select(value => (line, value))), n))
        select SwapValues(text, swaps);

    [Fact]
    public Task Get_answers_read_back_as_the_device_that_wrote_them() =>
        Run(
            Prop.ForAll(Generators.Device.ToArbitrary(), device =>
            {
                var text = UapiProtocol.FormatGet(device);
                var read = UapiProtocol.ParseGet(device.Name, text, out var errno);
                Assert.Equal(0, errno);
                Assert.Equal(device, read);
            }),
            500);

    [Fact]
    public Task Set_requests_read_back_as_the_change_that_wrote_them() =>
        Run(
            Prop.ForAll(Generators.Config.ToArbitrary(), config =>
            {
                var read = UapiProtocol.ParseSet(UapiProtocol.FormatSet(config));

                // The protocol carries allowed IPs as networks: host bits are cleared on the way.
                var expected = config with
                {
                    Peers = config.Peers.Select(p => p with { AllowedIPs = p.AllowedIPs.Select(a => new IPPrefix(a.Network, a.PrefixLength)).ToArray() }).ToArray(),
                };
                Assert.Equal(expected, read);
            }),
            1000);

    [Fact]
    public Task Protocol_like_text_is_read_or_refused_with_FormatException() =>
        Run(Prop.ForAll(ProtocolLike.ToArbitrary(), ParseAll), 5000);

    [Fact]
    public Task Random_text_is_read_or_refused_with_FormatException() =>
        Run(Prop.ForAll(RandomText.ToArbitrary(), ParseAll), 5000);

    [Fact]
    public Task Damaged_valid_text_is_read_or_refused_with_FormatException() =>
        Run(Prop.ForAll(Mutated.ToArbitrary(), ParseAll), 3000);

    [Fact]
    public Task Valid_text_with_edge_case_values_is_read_or_refused_with_FormatException() =>
        Run(Prop.ForAll(ValueSwapped.ToArbitrary(), ParseAll), 5000);

    [Fact]
    public Task A_damaged_secret_key_is_refused_without_quoting_it() =>
        Run(
            Prop.ForAll(
                (from key in Generators.KeyBytes
                 from at in Gen.Choose(0, 63)
                 from bad in Gen.Elements('g', 'z', ' ', ':', '=')
                 from psk in Gen.Elements(true, false)
                 select (key, at, bad, psk)).ToArbitrary(),
                c =>
                {
                    var hex = Convert.ToHexStringLower(c.key).ToCharArray();
                    hex[c.at] = c.bad;
                    var damaged = new string(hex);
                    var text = c.psk
                        ? $"public_key={new string('1', 64)}\npreshared_key={damaged}\nerrno=0\n\n"
                        : $"private_key={damaged}\nerrno=0\n\n";
                    var ex = Assert.Throws<FormatException>(() => UapiProtocol.ParseGet("wg0", text, out _));
                    Assert.DoesNotContain(damaged[..16], ex.Message, StringComparison.Ordinal);
                    Assert.DoesNotContain(damaged[^16..], ex.Message, StringComparison.Ordinal);
                }),
            500);

    [Fact]
    public void A_wireguard_go_answer_reads_as_expected()
    {
        // The shape wireguard-go 0.0.20220316 writes (device/uapi.go IpcGetOperation): private key first, no public
        // key, zero fields omitted at device level but not per peer, negative errno on failure.
        var privateKey = WireGuardSecretKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var peerKey = WireGuardKey.FromBytes(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());
        var text = $"""
            private_key={privateKey.ToHex()}
            listen_port=51820
            public_key={peerKey.ToHex()}
            preshared_key={new string('0', 64)}
            protocol_version=1
            endpoint=[fd00::2]:51821
            last_handshake_time_sec=1700000000
            last_handshake_time_nsec=123456789
            tx_bytes=1234
            rx_bytes=5678
            persistent_keepalive_interval=25
            allowed_ip=10.9.0.2/32
            allowed_ip=fd09::/64
            errno=0


            """.ReplaceLineEndings("\n").TrimEnd('\n') + "\n\n";

        var device = UapiProtocol.ParseGet("wg7", text, out var errno);
        Assert.Equal(0, errno);
        Assert.Equal("wg7", device.Name);
        Assert.Equal(privateKey, device.PrivateKey);
        Assert.Equal(privateKey.GetPublicKey(), device.PublicKey);
        Assert.Equal(51820, device.ListenPort);
        var peer = Assert.Single(device.Peers);
        Assert.Equal(peerKey, peer.PublicKey);
        Assert.True(peer.PresharedKey.IsZero);
        Assert.Equal("[fd00::2]:51821", peer.Endpoint!.ToString());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(1_234_567), peer.LatestHandshake);
        Assert.Equal(1234UL, peer.SentBytes);
        Assert.Equal(5678UL, peer.ReceivedBytes);
        Assert.Equal(25, peer.PersistentKeepaliveInterval);
        Assert.Equal(["10.9.0.2/32", "fd09::/64"], peer.AllowedIPs.Select(a => a.ToString()));

        Assert.Equal(22, UapiProtocol.ParseSetResponse("errno=-22\n\n"));
        UapiProtocol.ParseGet("wg7", "errno=-19\n\n", out errno);
        Assert.Equal(19, errno);
    }

    [Fact]
    public void Set_text_has_update_only_right_after_public_key_and_remove_alone()
    {
        var a = WireGuardKey.FromBytes(new byte[32].Select((_, i) => (byte)(i + 1)).ToArray());
        var b = WireGuardKey.FromBytes(new byte[32].Select((_, i) => (byte)(i + 2)).ToArray());
        var text = UapiProtocol.FormatSet(new WireGuardDeviceConfig
        {
            ListenPort = 51820,
            Peers =
            [
                new WireGuardPeerConfig(a) { UpdateOnly = true, Endpoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.2"), 51820), ReplaceAllowedIPs = true, AllowedIPs = [IPPrefix.Parse("10.1.2.3/24")] },
                new WireGuardPeerConfig(b) { Remove = true, AllowedIPs = [IPPrefix.Parse("10.9.9.9/32")] },
            ],
        });
        Assert.Equal(
            $"set=1\nlisten_port=51820\npublic_key={a.ToHex()}\nupdate_only=true\nendpoint=10.0.0.2:51820\nreplace_allowed_ips=true\nallowed_ip=10.1.2.0/24\npublic_key={b.ToHex()}\nremove=true\n\n",
            text);
    }

    private static void ParseAll(string text)
    {
        Try(() => UapiProtocol.ParseGet("wg0", text, out _));
        Try(() => UapiProtocol.ParseSet(text));
        Try(() => UapiProtocol.ParseSet("set=1\n" + text));
        Try(() => UapiProtocol.ParseSetResponse(text));
    }

    private static void Try(Action parse)
    {
        try
        {
            parse();
        }
        catch (FormatException)
        {
        }
    }

    private static async Task Run(Property property, int tests)
    {
        var check = Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(tests), property));
        await check.WaitAsync(Deadline);
    }

    private static string SwapValues(string text, IEnumerable<(int Line, string Value)> swaps)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        foreach (var (line, value) in swaps)
        {
            var at = line % lines.Length;
            var eq = lines[at].IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !lines[at].StartsWith("set=", StringComparison.Ordinal))
            {
                lines[at] = lines[at][..(eq + 1)] + value;
            }
        }

        return string.Join('\n', lines) + "\n\n";
    }

    private static string Mutate(string text, IEnumerable<(int Kind, int Position, char C)> mutations)
    {
        var sb = new StringBuilder(text);
        foreach (var (kind, position, c) in mutations)
        {
            if (sb.Length == 0)
            {
                sb.Append(c);
                continue;
            }

            var at = position % sb.Length;
            switch (kind)
            {
                case 0: sb[at] = c; break;
                case 1: sb.Insert(at, c); break;
                case 2: sb.Remove(at, 1); break;
                case 3: sb.Length = at; break;
                default:
                    var lines = sb.ToString().Split('\n').ToList();
                    var line = at % lines.Count;
                    lines.Insert(line, lines[line]);
                    sb.Clear().Append(string.Join('\n', lines));
                    break;
            }
        }

        return sb.ToString();
    }
}
