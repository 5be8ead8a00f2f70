using System.Globalization;

namespace Aether.Labs.Supervision;

/// <summary>Who is in a process group, from <c>/proc/PID/stat</c>: <c>kill(-PGID, 0)</c> cannot tell a living member
/// from a zombie waiting for its parent, so a group is alive while one of its members is not a zombie.</summary>
internal static class ProcStat
{
    /// <summary>Reads the state letter and the process group of a <c>/proc/PID/stat</c> line. The command name is in
    /// parentheses and may hold spaces and parentheses itself, so the fields are counted from the last <c>)</c>.</summary>
    public static bool TryParse(string stat, out char state, out int processGroup)
    {
        state = default;
        processGroup = 0;
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        // ") S PPID PGRP ..."
        var fields = stat[(close + 1)..].Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3 || fields[0].Length != 1)
        {
            return false;
        }

        state = fields[0][0];
        return int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out processGroup);
    }

    /// <summary>The pids of the members of <paramref name="processGroup"/> that are not zombies.</summary>
    public static List<int> LivingMembers(int processGroup)
    {
        var members = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(entry);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || !int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(entry + "/stat");
            }
            catch (IOException)
            {
                continue; // gone meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (TryParse(stat, out var state, out var group) && group == processGroup && state is not ('Z' or 'X'))
            {
                members.Add(pid);
            }
        }

        return members;
    }
}
