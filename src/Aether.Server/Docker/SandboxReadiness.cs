namespace Aether.Server.Docker;

/// <summary>
/// Whether a sandbox key is a network namespace yet. For <c>docker run</c>, dockerd sends <c>Join</c> before the
/// container exists: the key's file appears only when runc's prestart hook bind-mounts the new process's
/// <c>/proc/PID/ns/net</c> onto it. For <c>docker network connect</c> to a running container it is there already.
/// Read from the mount table (the daemon shares dockerd's mount namespace).
/// </summary>
internal static class SandboxReadiness
{
    /// <summary>Whether <paramref name="path"/> is a mount point now.</summary>
    public static bool IsMounted(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ', 6);
            if (fields.Length > 4 && string.Equals(Unescape(fields[4]), path, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Waits until <paramref name="isReady"/> says <paramref name="path"/> is ready, polling every 5 ms.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>.</exception>
    public static async Task WaitAsync(string path, Func<string, bool> isReady, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!isReady(path))
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"the sandbox {path} did not become a network namespace within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Unescape(string field) =>
        field.Contains('\\', StringComparison.Ordinal)
            ? field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal).Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal)
            : field;
}
