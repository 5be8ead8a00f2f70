using System.Globalization;

namespace Aether.Labs.Supervision;

/// <summary>
/// The pid file of a lab's background runner (<c>aether lab run NAME</c>: it supervises the nodes' processes and runs
/// the lab's <see cref="LabRuntime"/>): <c>STATE/labs/NAME/run.pid</c>. Whoever else would keep the lab (the daemon)
/// reads it so that one lab never has two runtimes.
/// </summary>
public static class LabRunnerFile
{
    /// <summary>The file's name in the lab's directory.</summary>
    public const string FileName = "run.pid";

    /// <summary>The pid file in <paramref name="labDirectory"/> (<see cref="LabController.LabDirectory"/>).</summary>
    public static string PathIn(string labDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(labDirectory);
        return Path.Combine(labDirectory, FileName);
    }

    /// <summary>The pid written in the lab's pid file when that process is alive and is the lab's runner (its command
    /// line says <c>lab run LAB</c>), else null: a stale file left by a killed runner, or a pid reused since, is no
    /// runner.</summary>
    public static int? RunningPid(string labDirectory, string lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var file = PathIn(labDirectory);
        try
        {
            if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                return null;
            }

            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            var at = Array.IndexOf(cmdline, "run");
            return at > 0 && string.Equals(cmdline[at - 1], "lab", StringComparison.Ordinal) && at + 1 < cmdline.Length
                && string.Equals(cmdline[at + 1], lab, StringComparison.Ordinal) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
