using Aether.Netlink.Protocol;

namespace Aether.Netlink.Tests.Fixtures;

/// <summary>Builds and reads single messages for the fixture tests.</summary>
internal static class Wire
{
    public delegate void Write(ref NetlinkWriter writer);

    /// <summary>Runs <paramref name="write"/> on a fresh writer and returns the bytes it wrote.</summary>
    public static byte[] Emit(Write write)
    {
        var writer = new NetlinkWriter(256);
        try
        {
            write(ref writer);
            return writer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>The one message in <paramref name="bytes"/>; fails if there are more or fewer.</summary>
    public static NetlinkMessage Single(ReadOnlySpan<byte> bytes)
    {
        var messages = new NetlinkMessageEnumerator(bytes);
        Assert.True(messages.MoveNext(), "no message in the fixture");
        var message = messages.Current;
        Assert.False(messages.MoveNext(), "more than one message in the fixture");
        return message;
    }
}
