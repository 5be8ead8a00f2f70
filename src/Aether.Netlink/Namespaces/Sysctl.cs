using System.Runtime.InteropServices;
using System.Text;
using Aether.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// One open <c>/proc/sys/net</c> entry of a network namespace (<c>net.ipv4.ip_forward</c>).
/// <para>
/// The kernel resolves <c>/proc/sys/net</c> against the namespace of the thread that opens it, and binds the open
/// file to that namespace's table: so the entry is opened on a dedicated thread inside the namespace
/// (<see cref="NamespaceThread"/>), and afterwards reads and writes act on that namespace from any thread. Each read
/// and write is a <c>pread</c>/<c>pwrite</c> at offset 0, a complete sysctl access of its own, so one handle serves
/// any number of them, concurrently. When the entry goes away (its interface is deleted, its namespace dies), reads
/// and writes fail with <c>ENOENT</c>; open it again once it is back.
/// </para>
/// <para>
/// Keys are written as sysctl(8) takes them: <c>net.ipv4.ip_forward</c>, or <c>net/ipv4/conf/eth0.100/forwarding</c>
/// where, with '/' separators, dots are part of a name. Only keys under <c>net</c> belong to a network namespace.
/// </para>
/// </summary>
public sealed class Sysctl : IDisposable
{
    /// <summary>Where sysctls live.</summary>
    public const string Root = "/proc/sys";

    private const int MaxValueBytes = 1 << 20;

    private readonly SafeFileHandle _file;

    private Sysctl(SafeFileHandle file, string key, string where, bool canWrite)
    {
        _file = file;
        Key = key;
        Where = where;
        CanWrite = canWrite;
    }

    /// <summary>The normalised key (<c>net/ipv4/ip_forward</c>).</summary>
    public string Key { get; }

    /// <summary>The key as people write it (<c>net.ipv4.ip_forward</c>; see <see cref="FormatKey"/>).</summary>
    public string DisplayKey => FormatKey(Key);

    /// <summary>Whether the entry was opened for writing (false for a read-only entry such as
    /// <c>net.ipv4.tcp_available_congestion_control</c>).</summary>
    public bool CanWrite { get; }

    /// <summary>The namespace the entry belongs to, as named when it was opened.</summary>
    public string Where { get; }

    /// <summary>
    /// Normalises a key to its path below <see cref="Root"/>: <c>net.ipv4.ip_forward</c> and
    /// <c>net/ipv4/ip_forward</c> both give <c>net/ipv4/ip_forward</c>. A key with a '/' is split at '/' only (its
    /// dots are literal: <c>net/ipv4/conf/eth0.100/forwarding</c>); one without is split at dots.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, absolute, has an empty, <c>.</c> or <c>..</c> segment,
    /// contains NUL, whitespace or control characters, or is not below <c>net</c> (only those are per-namespace).</exception>
    public static string NormalizeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return TryNormalizeKey(key, out var normalized, out var error)
            ? normalized
            : throw new ArgumentException($"invalid sysctl key '{Printable(key)}': {error}", nameof(key));
    }

    /// <summary>Like <see cref="NormalizeKey"/>, without throwing: false, and why, when the key is invalid.</summary>
    public static bool TryNormalizeKey(string key, out string normalized, out string error)
    {
        ArgumentNullException.ThrowIfNull(key);
        normalized = "";
        error = "";
        if (key.Length == 0)
        {
            error = "empty";
            return false;
        }

        foreach (var c in key)
        {
            if (c == '\0' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = "contains NUL, whitespace or a control character";
                return false;
            }
        }

        if (key[0] == '/')
        {
            error = "absolute paths are not keys (write net/ipv4/ip_forward, not /proc/sys/net/ipv4/ip_forward)";
            return false;
        }

        var separator = key.Contains('/', StringComparison.Ordinal) ? '/' : '.';
        var segments = key.Split(separator);
        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                error = "has an empty segment";
                return false;
            }

            if (segment is "." or "..")
            {
                error = $"has a '{segment}' segment";
                return false;
            }
        }

        if (!string.Equals(segments[0], "net", StringComparison.Ordinal) || segments.Length < 2)
        {
            error = "only entries below net are per network namespace";
            return false;
        }

        normalized = string.Join('/', segments);
        return true;
    }

    /// <summary>A normalised key as sysctl(8) shows it: dotted (<c>net.ipv4.ip_forward</c>), or left with its '/'
    /// separators when a segment has a dot of its own (<c>net/ipv4/conf/eth0.100/forwarding</c>).</summary>
    public static string FormatKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Contains('.', StringComparison.Ordinal) ? key : key.Replace('/', '.');
    }

    /// <summary>Whether two values are the same setting: compared field by field, split at any whitespace
    /// (<c>ip_local_port_range</c> reads <c>32768\t60999</c> and is written <c>32768 60999</c>).</summary>
    public static bool ValuesEqual(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Fields(a).SequenceEqual(Fields(b), StringComparer.Ordinal);
    }

    /// <summary>A value with its fields joined by single spaces, for messages and comparisons.</summary>
    public static string NormalizeValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return string.Join(' ', Fields(value));
    }

    /// <summary>Opens <paramref name="key"/> of <paramref name="ns"/>, on a dedicated thread inside it. Read-write
    /// when the entry allows it, read-only otherwise (<see cref="CanWrite"/>).</summary>
    /// <exception cref="ArgumentException">The key is invalid (<see cref="NormalizeKey"/>).</exception>
    /// <exception cref="NetlinkException"><c>ENOENT</c> when there is no such entry (<c>open sysctl
    /// net.ipv4.conf.eth9.rp_filter in blue: ENOENT (No such file or directory)</c>); the errno otherwise.</exception>
    public static Sysctl Open(NetworkNamespace ns, string key) =>
        OpenAll(ns, [key])[0] ?? throw new NetlinkException(Errno.ENOENT, "open sysctl", Describe(NormalizeKey(key), ns));

    /// <summary>Opens <paramref name="key"/> of <paramref name="ns"/>, or returns null when there is no such entry
    /// (yet: an interface's entries appear with the interface).</summary>
    /// <exception cref="NetlinkException">Opening failed for another reason than <c>ENOENT</c>.</exception>
    public static Sysctl? TryOpen(NetworkNamespace ns, string key) => OpenAll(ns, [key])[0];

    /// <summary>Opens several entries of <paramref name="ns"/> in one visit to the namespace: for each key, the
    /// entry, or null when there is no such entry. All keys are checked before anything is opened.</summary>
    /// <exception cref="ArgumentException">A key is invalid.</exception>
    /// <exception cref="NetlinkException">An entry could not be opened for another reason than <c>ENOENT</c>
    /// (the entries opened before it are closed).</exception>
    public static IReadOnlyList<Sysctl?> OpenAll(NetworkNamespace ns, IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(keys);
        var normalized = new string[keys.Count];
        for (var i = 0; i < normalized.Length; i++)
        {
            normalized[i] = NormalizeKey(keys[i]);
        }

        if (normalized.Length == 0)
        {
            return [];
        }

        var where = ns.ToString();
        return ns.RunInside(() =>
        {
            var opened = new Sysctl?[normalized.Length];
            try
            {
                for (var i = 0; i < normalized.Length; i++)
                {
                    opened[i] = OpenHere(normalized[i], where);
                }
            }
            catch
            {
                foreach (var entry in opened)
                {
                    entry?.Dispose();
                }

                throw;
            }

            return opened;
        });
    }

    /// <summary>Reads the value, trimmed (<c>1</c>; <c>32768\t60999</c>).</summary>
    /// <exception cref="NetlinkException">The read failed: <c>ENOENT</c> once the entry is gone.</exception>
    public string Read()
    {
        ObjectDisposedException.ThrowIf(_file.IsClosed, this);
        var buffer = new byte[4096];
        while (true)
        {
            int n;
            try
            {
                n = RandomAccess.Read(_file, buffer, 0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Failure("read sysctl", ex);
            }

            if (n < buffer.Length || buffer.Length >= MaxValueBytes)
            {
                return Encoding.UTF8.GetString(buffer, 0, n).Trim();
            }

            buffer = new byte[buffer.Length * 2]; // filled the buffer: read it whole again, in a bigger one
        }
    }

    /// <summary>Writes <paramref name="value"/> (a newline is added, as <c>echo</c> would).</summary>
    /// <exception cref="ArgumentException">The value contains NUL or a line break.</exception>
    /// <exception cref="NetlinkException">The write failed: <c>EINVAL</c> for a value the kernel rejects,
    /// <c>EACCES</c> for a read-only entry, <c>ENOENT</c> once the entry is gone.</exception>
    public void Write(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\0', '\n', '\r') >= 0)
        {
            throw new ArgumentException($"sysctl {DisplayKey}: the value must be one line without NUL", nameof(value));
        }

        ObjectDisposedException.ThrowIf(_file.IsClosed, this);
        if (!CanWrite)
        {
            throw new NetlinkException(Errno.EACCES, "write sysctl", Describe(Key, Where), "the entry is read-only");
        }

        var bytes = Encoding.UTF8.GetBytes(value + "\n");
        try
        {
            RandomAccess.Write(_file, bytes, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("write sysctl", ex);
        }
    }

    /// <summary>Closes the entry.</summary>
    public void Dispose() => _file.Dispose();

    /// <inheritdoc/>
    public override string ToString() => Describe(Key, Where);

    /// <summary>Opens on the calling thread, which must be inside the namespace; null for ENOENT.</summary>
    private static Sysctl? OpenHere(string key, string where)
    {
        var path = Root + "/" + key;
        var canWrite = true;
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0 && Marshal.GetLastPInvokeError() is Errno.EACCES or Errno.EPERM)
        {
            canWrite = false;
            fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ENOENT ? null : throw new NetlinkException(errno, "open sysctl", Describe(key, where));
        }

        return new Sysctl(new SafeFileHandle(fd, ownsHandle: true), key, where, canWrite);
    }

    private static string Describe(string key, NetworkNamespace ns) => Describe(key, ns.ToString());

    private static string Describe(string key, string where) => FormatKey(key) + " in " + where;

    private static string[] Fields(string value) =>
        value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static string Printable(string key) => key.Replace("\0", "\\0", StringComparison.Ordinal);

    /// <summary>.NET reports I/O errors by exception type; this turns them back into errno with the key named.</summary>
    private NetlinkException Failure(string operation, Exception ex)
    {
        var errno = ex switch
        {
            FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
            UnauthorizedAccessException => Errno.EACCES,
            IOException { HResult: > 0 and < 4096 } io => io.HResult,
            _ => Errno.EIO,
        };
        return new NetlinkException(errno, operation, Describe(Key, Where));
    }
}
