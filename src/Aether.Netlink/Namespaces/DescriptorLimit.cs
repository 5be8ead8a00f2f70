using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>The process's descriptor limit (<c>RLIMIT_NOFILE</c>), raised for work that holds a descriptor per
/// namespace: <c>aether run</c> and an apply hold each namespace's own, and request sockets up to a third of the limit
/// (the internal socket budget); 10,000 namespaces need about 16,700. A common default is 1024 soft; the benchmark
/// machine's hard limit is 20,000.</summary>
public static class DescriptorLimit
{
    /// <summary>Raises the soft limit to at least <paramref name="wanted"/>, and the hard limit too when it is lower
    /// and the process may (root: <c>CAP_SYS_RESOURCE</c>; never beyond <c>/proc/sys/fs/nr_open</c>). Returns the
    /// soft limit in force afterwards; a refusal leaves the limits as they were (the work then fails with
    /// <c>EMFILE</c> where it runs out).</summary>
    /// <param name="wanted">The soft limit wanted.</param>
    /// <returns>The soft limit now in force.</returns>
    public static unsafe ulong EnsureAtLeast(ulong wanted)
    {
        Libc.RLimit limit;
        if (Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) != 0 || limit.Current >= wanted)
        {
            return limit.Current;
        }

        var ceiling = NrOpen();
        var raised = new Libc.RLimit { Current = Math.Min(wanted, ceiling), Maximum = Math.Max(limit.Maximum, Math.Min(wanted, ceiling)) };
        if (Libc.SetRLimit(Libc.RLIMIT_NOFILE, &raised) == 0)
        {
            return raised.Current;
        }

        // Not allowed to raise the hard limit: up to it.
        var soft = new Libc.RLimit { Current = Math.Min(wanted, limit.Maximum), Maximum = limit.Maximum };
        return Libc.SetRLimit(Libc.RLIMIT_NOFILE, &soft) == 0 ? soft.Current : limit.Current;
    }

    private static ulong NrOpen()
    {
        try
        {
            return ulong.Parse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return 1024 * 1024; // the kernel's default
        }
    }
}
