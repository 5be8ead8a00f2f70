using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Aether.Interop;
using Aether.Netlink;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>Why a definition file (or a definition's text) was refused before its YAML was read: where (1-based; 1:1
/// when the file as a whole is refused) and what is wrong, with the limit it broke.</summary>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column (in bytes, for a byte that is not UTF-8).</param>
/// <param name="Message">What is wrong (<c>it is a FIFO (named pipe), not a regular file</c>).</param>
public sealed record DefinitionProblem(int Line, int Column, string Message);

/// <summary>A definition file read: its text, or the one problem that kept it from being read (never both).</summary>
/// <param name="Text">The file's text (UTF-8 decoded, without a byte order mark) when it could be read.</param>
/// <param name="Problem">Why it could not.</param>
public sealed record DefinitionText(string? Text, DefinitionProblem? Problem);

/// <summary>
/// The one way definition files (topologies, labs, interface profiles) are read, and the limits that bound what their
/// YAML may cost. A file is opened without blocking (a FIFO with no writer, a terminal) and refused unless it is a
/// regular file of at most <see cref="MaxBytes"/> bytes (checked against its size and again while reading, since
/// some files report a size that is not what they hold) whose bytes are UTF-8. Its YAML is then read through a guard
/// (<see cref="Guard"/>) that refuses, before anything is built from it, nesting deeper than <see cref="MaxDepth"/>,
/// more than <see cref="MaxNodes"/> nodes (every use of an alias counting the nodes it stands for) and scalars longer
/// than <see cref="MaxScalarLength"/>.
/// </summary>
public static class DefinitionFile
{
    /// <summary>The largest definition: 4 MiB, of a file or of a text sent in a request. Real ones are a few KiB.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>The deepest nesting of mappings and lists (a topology needs 4, a lab 5).</summary>
    public const int MaxDepth = 64;

    /// <summary>The most nodes (scalars, mappings, lists) one definition may hold, aliases counted as the nodes they
    /// stand for at each use: bounds the walk over a file whose anchors multiply (a "billion laughs"). A topology of
    /// <c>examples/generate-topology.sh</c> holds 20 per namespace: 10,000 namespaces are 200,007 nodes.</summary>
    public const int MaxNodes = 250_000;

    /// <summary>The longest scalar, in characters.</summary>
    public const int MaxScalarLength = 65_536;

    /// <summary>The limits as the messages say them.</summary>
    internal static string SizeLimit => string.Create(CultureInfo.InvariantCulture, $"the limit of {MaxBytes} bytes (4 MiB)");

    /// <summary>Reads the definition file at <paramref name="path"/>: its text, or why it was refused (cannot be
    /// opened, not a regular file, over <see cref="MaxBytes"/>, not UTF-8). Never blocks on a FIFO or device and never
    /// reads more than <see cref="MaxBytes"/> + 1 bytes.</summary>
    public static DefinitionText Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            return Refused("cannot read the file: the path is empty or holds a NUL character");
        }

        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return Refused($"cannot read the file: {Errno.Message(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            var errno = Libc.TypeAndSize(fd, out var type, out var size);
            if (errno != 0)
            {
                return Refused($"cannot read the file: statx: {Errno.Message(errno)}");
            }

            if (type != Libc.S_IFREG)
            {
                return Refused($"cannot read the file: it is {Kind(type)}, not a regular file; a definition is read from a regular file of at most {MaxBytes} bytes");
            }

            if (size > MaxBytes)
            {
                return Refused(string.Create(CultureInfo.InvariantCulture, $"cannot read the file: it is {size} bytes, over {SizeLimit}"));
            }

            return ReadBytes(fd, size, out var bytes, out var length) is { } problem ? new DefinitionText(null, problem) : Decode(bytes.AsSpan(0, length));
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    /// <summary>Why <paramref name="text"/> (a definition not read from a file: a request's body, a stored
    /// definition) is refused: over <see cref="MaxBytes"/> bytes in UTF-8; null when it is within the limit.</summary>
    public static DefinitionProblem? CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= MaxBytes / 3)
        {
            return null; // at most 3 UTF-8 bytes per UTF-16 character
        }

        var bytes = text.Length > MaxBytes ? text.Length : System.Text.Encoding.UTF8.GetByteCount(text);
        return bytes <= MaxBytes
            ? null
            : new DefinitionProblem(1, 1, string.Create(CultureInfo.InvariantCulture, $"the definition is at least {bytes} bytes, over {SizeLimit}"));
    }

    /// <summary>The text of a definition given as bytes (a request's body): refused over <see cref="MaxBytes"/> or
    /// when the bytes are not UTF-8 (with the offset, line and column of the first that is not), as a file would be.
    /// A leading byte order mark is dropped.</summary>
    public static DefinitionText FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            return new DefinitionText(null, new DefinitionProblem(1, 1, string.Create(CultureInfo.InvariantCulture, $"the definition is at least {bytes.Length} bytes, over {SizeLimit}")));
        }

        return Decode(bytes);
    }

    /// <summary>A parser handing on <paramref name="parser"/>'s events that throws <see cref="DefinitionLimitException"/>
    /// (a <see cref="YamlException"/>) at the first event beyond a limit, before anything is built from it.</summary>
    internal static IParser Guard(IParser parser) => new DefinitionGuard(parser);

    private static DefinitionText Refused(string message) => new(null, new DefinitionProblem(1, 1, message));

    private static string Kind(int type) => type switch
    {
        Libc.S_IFDIR => "a directory",
        Libc.S_IFIFO => "a FIFO (named pipe)",
        Libc.S_IFCHR => "a character device",
        Libc.S_IFBLK => "a block device",
        Libc.S_IFSOCK => "a socket",
        _ => string.Create(CultureInfo.InvariantCulture, $"a file of type 0x{type:x}"),
    };

    /// <summary>Reads at most <see cref="MaxBytes"/> + 1 bytes; a problem when there are more, or read fails.</summary>
    private static unsafe DefinitionProblem? ReadBytes(int fd, long size, out byte[] bytes, out int length)
    {
        bytes = new byte[Math.Min(Math.Max(size, 4096), MaxBytes) + 1];
        length = 0;
        while (true)
        {
            if (length == bytes.Length)
            {
                if (length > MaxBytes)
                {
                    return new DefinitionProblem(1, 1, string.Create(CultureInfo.InvariantCulture, $"cannot read the file: it holds more than {MaxBytes} bytes (its size said {size}), over {SizeLimit}"));
                }

                Array.Resize(ref bytes, (int)Math.Min((long)bytes.Length * 2, MaxBytes + 1L));
            }

            nint read;
            fixed (byte* at = &bytes[length])
            {
                read = Libc.Read(fd, at, bytes.Length - length);
            }

            if (read < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                return new DefinitionProblem(1, 1, $"cannot read the file: {Errno.Message(errno)}");
            }

            if (read == 0)
            {
                return null;
            }

            length += (int)read;
        }
    }

    /// <summary>Strict UTF-8: the first byte that is not is refused with its offset, line and column.</summary>
    private static DefinitionText Decode(ReadOnlySpan<byte> span)
    {
        var length = span.Length;
        var bom = span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        if (Utf8.IsValid(span[bom..]))
        {
            // Valid text (nearly every file): decoded straight into its string. Through a rented buffer, a thousand
            // namespaces' 160 KB file also took a 512 KB array the pool did not have yet.
            return new DefinitionText(System.Text.Encoding.UTF8.GetString(span[bom..]), null);
        }

        var chars = ArrayPool<char>.Shared.Rent(Math.Max(1, length));
        try
        {
            var status = Utf8.ToUtf16(span[bom..], chars, out var read, out var written, replaceInvalidSequences: false, isFinalBlock: false);
            if (status != OperationStatus.Done)
            {
                var offset = bom + read;
                var before = span[..offset];
                var line = before.Count((byte)'\n') + 1;
                var column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
                var what = status == OperationStatus.InvalidData ? string.Create(CultureInfo.InvariantCulture, $"byte 0x{span[offset]:X2}") : "an incomplete sequence at the end";
                return new DefinitionText(null, new DefinitionProblem(line, column, string.Create(CultureInfo.InvariantCulture,
                    $"not UTF-8: {what} at byte offset {offset} (line {line}, column {column}); definitions are UTF-8 text")));
            }

            return new DefinitionText(new string(chars, 0, written), null);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
