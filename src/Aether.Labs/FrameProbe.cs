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

    /// <summary>The nonce's length in a probe frame.</summary>
    internal const int NonceLength = 16;

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

    private static (TimeSpan? Latency, string? Problem) Once(End from, End to, TimeSpan timeout)
    {
        using var receiver = Socket.Open(to);
        using var sender = Socket.Open(from);
        Span<byte> nonce = stackalloc byte[NonceLength];
        RandomNumberGenerator.Fill(nonce);
        var clock = Stopwatch.StartNew();
        if (sender.Send(to.Mac, nonce, 0) is { } failed)
        {
            return (null, failed);
        }

        var arrived = receiver.Receive(nonce, 0, timeout - clock.Elapsed, out _);
        return arrived is null
            ? (null, string.Create(CultureInfo.InvariantCulture, $"a frame sent on {from.Name} did not arrive on {to.Name} within {timeout.TotalMilliseconds:F0} ms"))
            : (clock.Elapsed, null);
    }

    /// <summary>
    /// One half of a probe: a packet socket for the probe's EtherType, opened inside an end's namespace and bound to
    /// the end, that sends frames carrying a nonce and a kind byte, and waits for a frame carrying them. The two
    /// halves may be on different machines (the agents of two hosts): the sender then addresses the frame to the
    /// broadcast address, and the receiver answers to the sender's MAC address, which it reads from the frame.
    /// </summary>
    internal sealed class Socket : IDisposable
    {
        private readonly int _fd;

        private Socket(End end, int fd)
        {
            End = end;
            _fd = fd;
        }

        /// <summary>The end it is bound to.</summary>
        public End End { get; }

        /// <summary>Opens a socket on <paramref name="end"/>.</summary>
        /// <exception cref="NetlinkException">The kernel refused (errno and call in the message).</exception>
        public static Socket Open(End end) => new(end, FrameProbe.Open(end));

        /// <summary>Sends one frame to <paramref name="toMac"/> (<c>ff:ff:ff:ff:ff:ff</c>: whoever is across) carrying
        /// <paramref name="nonce"/> (16 bytes) and <paramref name="kind"/>; why it could not be sent, or null.</summary>
        public unsafe string? Send(string toMac, ReadOnlySpan<byte> nonce, byte kind)
        {
            Span<byte> frame = stackalloc byte[FrameLength];
            frame.Clear();
            Mac(toMac, frame[..6]);
            Mac(End.Mac, frame[6..12]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..14], EtherType);
            nonce.CopyTo(frame.Slice(NonceOffset, NonceLength));
            frame[NonceOffset + NonceLength] = kind;
            var address = Address(End.Index, toMac);
            fixed (byte* p = frame)
            {
                return Libc.SendToLl(_fd, p, FrameLength, 0, &address, sizeof(Libc.SockaddrLl)) < 0
                    ? $"sending a frame on {End.Name}: {LastError("sendto", End.Name).Message}"
                    : null;
            }
        }

        /// <summary>Waits up to <paramref name="timeout"/> for a frame carrying <paramref name="nonce"/> and
        /// <paramref name="kind"/> (its own frames, which a packet socket sees leave too, carry another kind); how long
        /// it waited, or null when none came. <paramref name="fromMac"/> is the sender's MAC address.</summary>
        public unsafe TimeSpan? Receive(ReadOnlySpan<byte> nonce, byte kind, TimeSpan timeout, out string? fromMac)
        {
            fromMac = null;
            var clock = Stopwatch.StartNew();
            Span<byte> received = stackalloc byte[2048];
            while (clock.Elapsed < timeout)
            {
                var poll = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
                var left = (int)Math.Max(1, (timeout - clock.Elapsed).TotalMilliseconds);
                if (Libc.Poll(&poll, 1, left) <= 0)
                {
                    continue;
                }

                nint n;
                fixed (byte* p = received)
                {
                    n = Libc.Recv(_fd, p, received.Length, Libc.MSG_DONTWAIT);
                }

                if (n > NonceOffset + NonceLength && received.Slice(NonceOffset, NonceLength).SequenceEqual(nonce) && received[NonceOffset + NonceLength] == kind)
                {
                    fromMac = string.Join(':', received[6..12].ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
                    return clock.Elapsed;
                }
            }

            return null;
        }

        /// <inheritdoc/>
        public void Dispose() => _ = Libc.Close(_fd);
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
