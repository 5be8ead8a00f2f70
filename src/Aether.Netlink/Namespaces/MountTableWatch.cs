using System.Globalization;
using System.Text;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// <c>/proc/self/mountinfo</c> held open: <c>poll</c> reports <c>POLLPRI</c> on it whenever the process's mount table
/// changed since the last poll that asked (the kernel compares a per-file event count with the namespace's). That is
/// how the watcher learns, without sleeping or polling, that <c>ip netns add</c> has bind-mounted a namespace onto an
/// entry it already saw created, and it also sees namespaces bind-mounted anywhere else.
/// </summary>
internal sealed class MountTableWatch : IDisposable
{
    private const string Path = "/proc/self/mountinfo";

    public MountTableWatch()
    {
        Fd = Libc.Open(Path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (Fd < 0)
        {
            throw NetlinkException.FromLastError("open", Path);
        }
    }

    /// <summary>The descriptor to poll for <c>POLLPRI</c>. A change made while it was not polled is reported by the
    /// next poll that asks, so nothing is lost by asking only when there is something to wait for.</summary>
    public int Fd { get; }

    /// <summary>Every nsfs mount of a network namespace in the process's mount table: where, and which namespace.</summary>
    public static List<(string MountPoint, ulong Inode)> NetworkNamespaceMounts()
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (IOException)
        {
            return [];
        }

        return Parse(text);
    }

    /// <summary>Parses mountinfo lines (<c>43 42 0:4 net:[4026532178] /run/netns/blue rw shared:2 - nsfs nsfs rw</c>):
    /// field 4 is the root within the file system (for nsfs, <c>net:[INODE]</c>), field 5 the mount point (octal
    /// escapes for space, tab, newline and backslash), and after <c>-</c> the file system type.</summary>
    internal static List<(string MountPoint, ulong Inode)> Parse(string mountinfo)
    {
        var mounts = new List<(string, ulong)>();
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0 || !line.AsSpan(separator + 3).StartsWith("nsfs ", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line[..separator].Split(' ');
            if (fields.Length < 5 || !fields[3].StartsWith("net:[", StringComparison.Ordinal) || !fields[3].EndsWith(']')
                || !ulong.TryParse(fields[3].AsSpan(5, fields[3].Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
            {
                continue;
            }

            mounts.Add((Unescape(fields[4]), inode));
        }

        return mounts;
    }

    public void Dispose() => Libc.Close(Fd);

    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                bytes.Add((byte)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(string s, int at) =>
        at + 2 < s.Length && s[at] is >= '0' and <= '3' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
