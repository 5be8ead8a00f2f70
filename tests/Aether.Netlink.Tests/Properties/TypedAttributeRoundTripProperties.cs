using System.Net;
using Aether.Netlink.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.Netlink.Tests.Properties;

/// <summary>Each typed writer (<c>WriteU32</c>, <c>WriteString</c>, …) is read back by its accessor.</summary>
public class TypedAttributeRoundTripProperties
{
    private static readonly Gen<byte[]> Bytes8 = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 8);

    /// <summary>Text without NUL or lone surrogates (which UTF-8 cannot carry), with multibyte characters.</summary>
    private static readonly Gen<string> Text =
        Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(
            Gen.OneOf(Gen.Choose(1, 0x7F), Gen.Choose(0x80, 0xD7FF), Gen.Choose(0xE000, 0xFFFD)).Select(c => (char)c), n))
        .Select(chars => new string(chars));

    private static readonly Gen<IPAddress> Addresses =
        Gen.OneOf(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 4), Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 16))
        .Select(b => new IPAddress(b));

    [Fact]
    public void Scalars_strings_and_addresses_read_back_as_written()
    {
        var inputs =
            from raw in Bytes8
            from text in Text
            from address in Addresses
            select (raw, text, address);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(inputs.ToArbitrary(), input => RoundTrip(input.raw, input.text, input.address)));
    }

    private static void RoundTrip(byte[] raw, string text, IPAddress address)
    {
        var u64 = BitConverter.ToUInt64(raw);
        var writer = new NetlinkWriter(16);
        try
        {
            writer.WriteU8(1, (byte)u64);
            writer.WriteU16(2, (ushort)u64);
            writer.WriteU16BigEndian(3, (ushort)u64);
            writer.WriteU32(4, (uint)u64);
            writer.WriteS32(5, (int)u64);
            writer.WriteU64(6, u64);
            writer.WriteString(7, text);
            writer.WriteAddress(8, address);
            writer.WriteFlag(9);

            var attributes = new NetlinkAttributeEnumerator(writer.WrittenSpan);
            Assert.True(attributes.MoveNext());
            Assert.Equal((byte)u64, attributes.Current.GetU8());
            Assert.True(attributes.MoveNext());
            Assert.Equal((ushort)u64, attributes.Current.GetU16());
            Assert.True(attributes.MoveNext());
            Assert.Equal((ushort)u64, attributes.Current.GetU16BigEndian());
            Assert.Equal(raw[0], attributes.Current.Payload[1]); // network order: low byte last
            Assert.True(attributes.MoveNext());
            Assert.Equal((uint)u64, attributes.Current.GetU32());
            Assert.True(attributes.MoveNext());
            Assert.Equal((int)u64, attributes.Current.GetS32());
            Assert.True(attributes.MoveNext());
            Assert.Equal(u64, attributes.Current.GetU64());
            Assert.True(attributes.MoveNext());
            Assert.Equal(text, attributes.Current.GetString());
            Assert.True(attributes.Current.StringEquals(System.Text.Encoding.UTF8.GetBytes(text)));
            Assert.True(attributes.MoveNext());
            Assert.Equal(address, attributes.Current.GetAddress());
            Assert.True(attributes.MoveNext());
            Assert.Equal((ushort)9, attributes.Current.Type);
            Assert.True(attributes.Current.Payload.IsEmpty);
            Assert.False(attributes.MoveNext());
        }
        finally
        {
            writer.Dispose();
        }
    }
}
