using Aether.Netlink.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.Netlink.Tests.Properties;

/// <summary>
/// Whatever the writer builds, the readers give back: messages (header fields, a fixed family header of any length,
/// attribute trees up to 4 deep) written back to back into one buffer are read back equal.
/// FsCheck.Xunit is not on the package mirror here, so properties run through <see cref="Check"/> inside facts.
/// </summary>
public class WriterReaderRoundTripProperties
{
    internal sealed record MessageModel(ushort Type, ushort Flags, uint Sequence, uint PortId, byte[] FamilyHeader, IReadOnlyList<AttributeNode> Attributes);

    private static readonly Gen<uint> AnyUInt32 = Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i));

    private static readonly Gen<MessageModel> Messages =
        from type in Gen.Choose(0, ushort.MaxValue)
        from flags in Gen.Choose(0, ushort.MaxValue)
        from sequence in AnyUInt32
        from portId in AnyUInt32
        from headerLength in Gen.Choose(0, 20)
        from header in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), headerLength)
        from count in Gen.Choose(0, 6)
        from attributes in Gen.ListOf(AttributeNode.Generator(1), count)
        select new MessageModel((ushort)type, (ushort)flags, sequence, portId, header, attributes);

    [Fact]
    public void Attribute_trees_survive_write_then_read()
    {
        var property = Prop.ForAll(Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(Messages, n)).ToArbitrary(), RoundTrip);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    private static void RoundTrip(IReadOnlyList<MessageModel> models)
    {
        var writer = new NetlinkWriter(64);
        try
        {
            foreach (var model in models)
            {
                var token = writer.BeginMessage(model.Type, model.Flags, model.Sequence, model.PortId);
                var header = writer.Reserve(NetlinkWriter.Pad(model.FamilyHeader.Length));
                header.Clear();
                model.FamilyHeader.CopyTo(header);
                foreach (var attribute in model.Attributes)
                {
                    AttributeNode.Write(ref writer, attribute);
                }

                writer.EndMessage(token);
            }

            Assert.Equal(models.Count, writer.MessageCount);
            Assert.Equal(0, writer.Length % 4);
            var index = 0;
            foreach (var message in new NetlinkMessageEnumerator(writer.WrittenSpan))
            {
                var model = models[index++];
                Assert.Equal((model.Type, model.Flags, model.Sequence, model.PortId), (message.Header.Type, message.Header.Flags, message.Header.Sequence, message.Header.PortId));
                Assert.Equal(model.FamilyHeader, message.Payload[..model.FamilyHeader.Length].ToArray());
                var read = AttributeNode.Read(message.Attributes(model.FamilyHeader.Length));
                Assert.Equal(AttributeNode.Describe(model.Attributes), AttributeNode.Describe(read));
            }

            Assert.Equal(models.Count, index);
        }
        finally
        {
            writer.Dispose();
        }
    }
}
