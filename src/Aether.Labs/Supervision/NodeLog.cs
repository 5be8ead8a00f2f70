using System.Globalization;
using System.Text;
using Aether.Interop;
using Aether.Netlink;

namespace Aether.Labs.Supervision;

/// <summary>
/// A node's log file. The process's stdout and stderr are the file itself (opened with <c>O_APPEND</c>, so every
/// write lands at the end whoever makes it), and the supervisor appends its own lines, each in one <c>write</c>:
/// <c>2026-12-06T02:09:19.123Z aether: started pid 4242: ...</c>. The file is opened anew for each start and each
/// line, so a log moved away or truncated by a rotation is picked up again.
/// </summary>
internal sealed unsafe class NodeLog(string path)
{
    private const int Mode = 0x1A4; // 0644

    /// <summary>The prefix of the supervisor's lines after the timestamp, which the process's own lines do not
    /// have.</summary>
    public const string Tag = " aether: ";

    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <summary>One line as it is written: the UTC time to the millisecond, the tag, the message.</summary>
    public static string Line(DateTimeOffset at, string message) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) + Tag + message + "\n";

    /// <summary>Opens the file for appending (making it, and its directory, when missing); the caller closes it.</summary>
    /// <exception cref="NetlinkException">It cannot be opened (the errno says why).</exception>
    /// <exception cref="IOException">Its directory cannot be made.</exception>
    public int Open()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var fd = Libc.Open(Path, Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, Mode);
        return fd >= 0 ? fd : throw new NetlinkException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "open log", Path);
    }

    /// <summary>Appends one line of the supervisor's; false (and nothing else) when the file cannot be written.</summary>
    public bool Write(string message)
    {
        int fd;
        try
        {
            fd = Open();
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(Line(DateTimeOffset.UtcNow, message));
            fixed (byte* p = bytes)
            {
                return Libc.Write(fd, p, bytes.Length) == bytes.Length;
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
