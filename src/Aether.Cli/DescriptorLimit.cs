using System.Runtime.InteropServices;

namespace Aether.Cli;

/// <summary>
/// Raises the process's open-file limit before a topology command: apply holds per namespace its descriptor, a
/// netlink socket and a duplicate for the handle, and the host's link source a handle per peer namespace (about five
/// descriptors a namespace), so 10,000 namespaces need about 50,000, past the usual soft limit (1024) and the hard
/// limit some systems set (20,000 on the benchmark machine). The soft limit goes to the hard one; as root, both go to
/// at least <see cref="Wanted"/> (capped by <c>/proc/sys/fs/nr_open</c>). Failure leaves the limit as it was: the
/// command then fails with EMFILE where it runs out, as before.
/// </summary>
internal static partial class DescriptorLimit
{
    /// <summary>The limit asked for: 100,000 namespaces at five descriptors each, and room for the rest.</summary>
    internal const ulong Wanted = 1 << 19;

    private const int RlimitNofile = 7;

    /// <summary>Raises the limit as far as allowed (see the class); returns the soft limit now in force, or null when it
    /// could not be read.</summary>
    internal static ulong? Raise()
    {
        if (GetRlimit(RlimitNofile, out var limit) != 0)
        {
            return null;
        }

        var wanted = Math.Max(limit.Max, Math.Min(Wanted, NrOpen() ?? limit.Max));
        if (wanted > limit.Max && SetRlimit(RlimitNofile, new Rlimit { Current = wanted, Max = wanted }) == 0)
        {
            return wanted; // root (CAP_SYS_RESOURCE): both raised
        }

        if (limit.Current < limit.Max && SetRlimit(RlimitNofile, new Rlimit { Current = limit.Max, Max = limit.Max }) == 0)
        {
            return limit.Max;
        }

        return limit.Current;
    }

    private static ulong? NrOpen()
    {
        try
        {
            return ulong.TryParse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRlimit(int resource, out Rlimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRlimit(int resource, in Rlimit limit);
}
