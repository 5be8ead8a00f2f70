using Aether.Netlink;
using Aether.Netlink.Protocol;
using Aether.Netlink.Tests.Fixtures;
using Aether.WireGuard.Kernel;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.WireGuard.Tests.Kernel;

/// <summary>The get-reply decoder fed damaged replies: it decodes them or throws <see cref="NetlinkParseException"/>,
/// nothing else (no IndexOutOfRange, ArgumentException or overflow), and terminates.</summary>
public sealed class ReplyRobustnessProperties
{
    private static readonly byte[] Reply = Hex.Load("wg_get_reply.hex");

    [Fact]
    public async Task Damaged_replies_are_decoded_or_refused_with_NetlinkParseException()
    {
        var damaged =
            from count in Gen.Choose(1, 6)
            from edits in Gen.ListOf(
                from kind in Gen.Choose(0, 3)
                from at in Gen.Choose(0, Reply.Length - 1)
                from value in Gen.Frequency((3, Gen.Choose(0, 40)), (1, Gen.Choose(0, 255)))
                select (kind, at, value),
                count)
            select Damage(edits);
        var property = Prop.ForAll(damaged.ToArbitrary(), bytes =>
        {
            try
            {
                var parts = new List<WgDeviceMessage>();
                foreach (var message in new NetlinkMessageEnumerator(bytes))
                {
                    if (message.Payload.Length >= GenlMsgHdr.Size && WgDevice.TryParse(message, out var part))
                    {
                        parts.Add(part);
                    }
                }

                if (parts.Count > 0)
                {
                    WgDevice.Coalesce(parts);
                }
            }
            catch (NetlinkParseException)
            {
            }
        });
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(5000), property)).WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static byte[] Damage(IEnumerable<(int Kind, int At, int Value)> edits)
    {
        var bytes = Reply.ToList();
        foreach (var (kind, at, value) in edits)
        {
            if (bytes.Count == 0)
            {
                break;
            }

            var i = at % bytes.Count;
            switch (kind)
            {
                case 0: bytes[i] = (byte)value; break;                          // a length, a type, a value
                case 1: bytes.RemoveRange(i, bytes.Count - i); break;           // truncated
                case 2: bytes.InsertRange(i, new byte[value % 8]); break;       // shifted
                default: bytes[i] = (byte)(bytes[i] ^ (1 << (value % 8))); break; // a bit flipped
            }
        }

        return [.. bytes];
    }
}
