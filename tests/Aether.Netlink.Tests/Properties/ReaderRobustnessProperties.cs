using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.Netlink.Tests.Properties;

/// <summary>
/// The readers, fed arbitrary or damaged bytes, either succeed or throw <see cref="NetlinkParseException"/> (never
/// IndexOutOfRange, ArgumentOutOfRange, overflow or anything else), and always terminate: each property runs under a
/// deadline, so a reader that loops fails the test instead of hanging the run.
/// </summary>
public class ReaderRobustnessProperties
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    private static readonly Gen<byte[]> RandomBytes =
        Gen.Frequency((3, Gen.Choose(0, 64)), (2, Gen.Choose(0, 600))).SelectMany(n => Gen.ArrayOf(AnyByte, n));

    /// <summary>Small values are likelier to land inside the buffer when written over a length field.</summary>
    private static readonly Gen<int> LengthLike = Gen.Frequency((3, Gen.Choose(0, 64)), (1, Gen.Choose(0, ushort.MaxValue)));

    private enum MutationKind
    {
        SetByte,
        SetUInt16,
        Truncate,
        Append,
    }

    private sealed record Mutation(MutationKind Kind, int Position, int Value, byte[] Extra);

    private static readonly Gen<Mutation> Mutations =
        from kind in Gen.Elements(Enum.GetValues<MutationKind>())
        from position in Gen.Choose(0, 4096)
        from value in LengthLike
        from extra in Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(AnyByte, n))
        select new Mutation(kind, position, value, extra);

    private static readonly Gen<byte[]> MutatedMessages =
        from original in Gen.Elements(Corpus.Messages.ToArray())
        from count in Gen.Choose(1, 6)
        from mutations in Gen.ListOf(Mutations, count)
        select Mutate(original, mutations);

    /// <summary>Random messages whose nlmsg_len usually fits, so the readers get past the header into the payload.</summary>
    private static readonly Gen<byte[]> FramedRandom =
        from count in Gen.Choose(1, 3)
        from messages in Gen.ListOf(
            from type in Gen.Elements<ushort>(2, 3, 16, 20, 24, 28, 88)
            from flags in Gen.Choose(0, ushort.MaxValue)
            from payload in RandomBytes
            from slack in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(-20, 20)))
            select Frame(type, (ushort)flags, payload, slack),
            count)
        select messages.SelectMany(m => m).ToArray();

    [Fact]
    public Task Random_buffers_are_parsed_or_refused() =>
        Run(Prop.ForAll(Gen.OneOf(RandomBytes, FramedRandom).ToArbitrary(), bytes => ParseEverything.Buffer(bytes)), 5000);

    [Fact]
    public Task Random_payloads_of_every_message_type_are_parsed_or_refused()
    {
        var messages =
            from type in Gen.Elements<ushort>(1, 2, 3, 16, 17, 20, 24, 28, 88, 0xFFFF)
            from flags in Gen.Elements<ushort>(0, NlmsgFlags.Capped, NlmsgFlags.AckTlvs, NlmsgFlags.Capped | NlmsgFlags.AckTlvs, 0xFFFF)
            from payload in RandomBytes
            select (type, flags, payload);
        return Run(
            Prop.ForAll(messages.ToArbitrary(), m =>
            {
                var header = new NlMsgHdr { Length = (uint)(NlMsgHdr.Size + m.payload.Length), Type = m.type, Flags = m.flags };
                ParseEverything.Message(new NetlinkMessage(header, m.payload));
            }),
            3000);
    }

    [Fact]
    public Task Mutated_valid_messages_are_parsed_or_refused() =>
        Run(Prop.ForAll(MutatedMessages.ToArbitrary(), bytes => ParseEverything.Buffer(bytes)), 5000);

    [Fact]
    public void Corpus_messages_parse_cleanly()
    {
        // The mutation corpus must start from well-formed messages, or mutating it proves little.
        var count = 0;
        foreach (var bytes in Corpus.Messages)
        {
            foreach (var message in new NetlinkMessageEnumerator(bytes))
            {
                Assert.True(message.Header.Type switch
                {
                    NlmsgType.Error => NetlinkError.Parse(message).Sequence == message.Header.Sequence,
                    NlmsgType.Done => NetlinkError.ParseDone(message).Errno == 0,
                    RtmType.NewLink => Link.TryParse(message, out _),
                    RtmType.NewAddr => Address.TryParse(message, out _),
                    RtmType.NewRoute => Route.TryParse(message, out _),
                    RtmType.NewNeigh => Neighbour.TryParse(message, out _),
                    RtmType.NewNsId => NsId.TryParse(message, out _),
                    _ => false,
                });
                count++;
            }
        }

        Assert.True(count >= 20, $"only {count} corpus messages");
    }

    private static async Task Run(Property property, int tests)
    {
        var check = Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(tests), property));
        await check.WaitAsync(Deadline);
    }

    private static byte[] Frame(ushort type, ushort flags, byte[] payload, int slack)
    {
        var bytes = new byte[NlMsgHdr.Size + NetlinkWriter.Pad(payload.Length)];
        var header = new NlMsgHdr { Length = (uint)Math.Max(0, NlMsgHdr.Size + payload.Length + slack), Type = type, Flags = flags };
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes, NlMsgHdr.Size);
        return bytes;
    }

    private static byte[] Mutate(byte[] original, IEnumerable<Mutation> mutations)
    {
        var bytes = original.ToList();
        foreach (var m in mutations)
        {
            if (bytes.Count == 0)
            {
                bytes.AddRange(m.Extra);
                continue;
            }

            var at = m.Position % bytes.Count;
            switch (m.Kind)
            {
                case MutationKind.SetByte:
                    bytes[at] = (byte)m.Value;
                    break;
                case MutationKind.SetUInt16:
                    at &= ~1;
                    bytes[at] = (byte)m.Value;
                    if (at + 1 < bytes.Count)
                    {
                        bytes[at + 1] = (byte)(m.Value >> 8);
                    }

                    break;
                case MutationKind.Truncate:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case MutationKind.Append:
                    bytes.AddRange(m.Extra);
                    break;
            }
        }

        return [.. bytes];
    }
}
