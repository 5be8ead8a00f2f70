using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Labs;

/// <summary>
/// <c>verify --deep</c>: proves a link carries frames. A raw Ethernet frame (the local experimental EtherType 0x88B5,
/// a random nonce in it) is sent on one end through a packet socket opened inside that end's namespace, and read on
/// the other end through one opened inside the other's; the time between is the link's latency. Both directions.
/// </summary>
internal static class FrameProbe
{
    private const ushort EtherType = 0x88B5;
    private const int FrameLength = 60;
    private const int NonceOffset = 14;
    private const int NonceLength = 16;

    /// <summary>One end: its namespace, ifindex and MAC address.</summary>
    public readonly record struct End(NetworkNamespace Namespace, int Index, string Mac, string Name);

    /// <summary>Sends a frame each way; the slower direction's latency, or why a frame did not arrive.</summary>
    public static async Task<(TimeSpan? Latency, string? Problem)> ProbeAsync(End a, End b, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var there = await Task.Run(() => Once(a, b, timeout), cancellationToken).ConfigureAwait(false);
        if (there.Problem is not null)
        {
            return there;
        }

        var back = await Task.Run(() => Once(b, a, timeout), cancellationToken).ConfigureAwait(false);
        return back.Problem is not null ? back : (there.Latency > back.Latency ? there.Latency : back.Latency, null);
    }

    private static unsafe (TimeSpan? Latency, string? Problem) Once(End from, End to, TimeSpan timeout)
    {
        var receiver = Open(to);
        try
        {
            var sender = Open(from);
            try
            {
                Span<byte> frame = stackalloc byte[FrameLength];
                frame.Clear();
                Mac(to.Mac, frame[..6]);
                Mac(from.Mac, frame[6..12]);
                BinaryPrimitives.WriteUInt16BigEndian(frame[12..14], EtherType);
                RandomNumberGenerator.Fill(frame.Slice(NonceOffset, NonceLength));
                var address = Address(from.Index, to.Mac);
                var clock = Stopwatch.StartNew();
                fixed (byte* p = frame)
                {
                    if (Libc.SendToLl(sender, p, FrameLength, 0, &address, sizeof(Libc.SockaddrLl)) < 0)
                    {
                        return (null, $"sending a frame on {from.Name}: {LastError("sendto", from.Name).Message}");
                    }
                }

                Span<byte> received = stackalloc byte[2048];
                while (clock.Elapsed < timeout)
                {
                    var poll = new Libc.PollFd { Fd = receiver, Events = Libc.POLLIN };
                    var left = (int)Math.Max(1, (timeout - clock.Elapsed).TotalMilliseconds);
                    if (Libc.Poll(&poll, 1, left) <= 0)
                    {
                        continue;
                    }

                    nint n;
                    fixed (byte* p = received)
                    {
                        n = Libc.Recv(receiver, p, received.Length, Libc.MSG_DONTWAIT);
                    }

                    if (n >= NonceOffset + NonceLength && received.Slice(NonceOffset, NonceLength).SequenceEqual(frame.Slice(NonceOffset, NonceLength)))
                    {
                        return (clock.Elapsed, null);
                    }
                }

                return (null, string.Create(CultureInfo.InvariantCulture, $"a frame sent on {from.Name} did not arrive on {to.Name} within {timeout.TotalMilliseconds:F0} ms"));
            }
            finally
            {
                _ = Libc.Close(sender);
            }
        }
        finally
        {
            _ = Libc.Close(receiver);
        }
    }

    /// <summary>A packet socket for our EtherType, opened inside the end's namespace and bound to the end.</summary>
    private static unsafe int Open(End end)
    {
        var fd = end.Namespace.RunInside(static () => Libc.Socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, BinaryPrimitives.ReverseEndianness((int)EtherType) >>> 16));
        if (fd < 0)
        {
            throw LastError("socket(AF_PACKET)", end.Name);
        }

        var address = Address(end.Index, mac: null);
        if (Libc.BindLl(fd, &address, sizeof(Libc.SockaddrLl)) < 0)
        {
            var error = LastError("bind(AF_PACKET)", end.Name);
            _ = Libc.Close(fd);
            throw error;
        }

        return fd;
    }

    private static unsafe Libc.SockaddrLl Address(int index, string? mac)
    {
        var address = new Libc.SockaddrLl
        {
            Family = Libc.AF_PACKET,
            Protocol = BinaryPrimitives.ReverseEndianness(EtherType),
            IfIndex = index,
            HaLen = 6,
        };
        if (mac is not null)
        {
            Mac(mac, MemoryMarshal.CreateSpan(ref address.Addr[0], 6));
        }

        return address;
    }

    private static NetlinkException LastError(string operation, string target) => new(Marshal.GetLastPInvokeError(), operation, target);

    private static void Mac(string text, Span<byte> into)
    {
        for (var i = 0; i < 6; i++)
        {
            into[i] = byte.Parse(text.AsSpan(i * 3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
    }
}
