using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Aether.Nftables;

/// <summary>
/// A command libnftables refused or the kernel rejected: the operation, the object, the errno when the failure was a
/// system error, and libnftables' own error text (<c>replace table inet aether-lab: EOPNOTSUPP (Operation not
/// supported): Error: Could not process rule: Operation not supported</c>).
/// </summary>
public sealed partial class NftablesException : IOException
{
    private static readonly Lazy<Dictionary<string, int>> ErrnoByMessage = new(() =>
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var errno = 1; errno < 134; errno++)
        {
            map.TryAdd(Netlink.Errno.Message(errno), errno);
        }

        return map;
    });

    /// <summary>Creates the exception.</summary>
    /// <param name="operation">What was being done (<c>replace table</c>).</param>
    /// <param name="target">The object (<c>inet aether-lab in blue</c>).</param>
    /// <param name="errorText">libnftables' error text, as it printed it.</param>
    /// <param name="errno">The system error behind the failure, or null when there was none (a syntax error, an
    /// object the library does not know).</param>
    public NftablesException(string operation, string? target, string errorText, int? errno)
        : base(Format(operation, target, errorText, errno), errno is int e ? -e : 0)
    {
        Operation = operation;
        Target = target;
        ErrorText = errorText;
        Errno = errno;
    }

    /// <summary>What was being done (<c>replace table</c>).</summary>
    public string Operation { get; }

    /// <summary>The object it was done to.</summary>
    public string? Target { get; }

    /// <summary>libnftables' error text, unchanged.</summary>
    public string ErrorText { get; }

    /// <summary>The positive errno of a system error, or null when the library refused the command itself.</summary>
    public int? Errno { get; }

    /// <summary>The errno's symbolic name (<c>ENOENT</c>), or null.</summary>
    public string? ErrnoName => Errno is int e ? Netlink.Errno.Name(e) : null;

    /// <summary>
    /// The errno behind a failed command. libnftables reports a system error as <c>strerror(errno)</c> in its text
    /// (<c>Error: Could not process rule: No such file or directory</c>) and leaves <c>errno</c> set only on some
    /// paths (a failed list leaves a stale <c>EAGAIN</c>): so the value <paramref name="lastError"/> is taken when its
    /// message is the one in the text, otherwise the errno whose message the text names, otherwise none.
    /// </summary>
    internal static int? ErrnoOf(string errorText, int lastError)
    {
        var messages = ErrorMessages(errorText);
        if (lastError > 0 && messages.Contains(Netlink.Errno.Message(lastError)))
        {
            return lastError;
        }

        foreach (var message in messages)
        {
            if (ErrnoByMessage.Value.TryGetValue(message, out var errno))
            {
                return errno;
            }
        }

        return null;
    }

    /// <summary>libnftables' text on one line: location prefixes (<c>internal:0:0-0: </c>) and the echo of the
    /// command with its caret line dropped, messages joined with "; ".</summary>
    internal static string Summarize(string errorText)
    {
        var parts = new List<string>();
        foreach (var raw in errorText.Split('\n'))
        {
            var line = raw.Trim();
            var at = line.IndexOf("Error: ", StringComparison.Ordinal);
            if (at < 0)
            {
                continue; // the command echoed back, its ^^^ marker, blank lines
            }

            parts.Add(line[at..]);
        }

        return parts.Count > 0 ? string.Join("; ", parts) : errorText.Trim();
    }

    private static List<string> ErrorMessages(string errorText)
    {
        var found = new List<string>();
        foreach (Match match in ErrorLine().Matches(errorText))
        {
            found.Add(match.Groups["message"].Value.Trim());
        }

        return found;
    }

    private static string Format(string operation, string? target, string errorText, int? errno)
    {
        var sb = new StringBuilder(operation);
        if (target is not null)
        {
            sb.Append(' ').Append(target);
        }

        sb.Append(": ");
        if (errno is int e)
        {
            sb.Append(Netlink.Errno.Name(e)).Append(" (").Append(Netlink.Errno.Message(e)).Append("): ");
        }

        sb.Append(Summarize(errorText));
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{nameof(NftablesException)}: {Message}");

    [GeneratedRegex(@"Error: (?:Could not process rule: )?(?<message>[^\n;]+)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ErrorLine();
}
