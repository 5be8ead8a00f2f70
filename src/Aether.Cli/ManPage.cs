using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Aether.Cli;

/// <summary>
/// aether(1) in roff (man(7) macros), written from the same command tree and help texts the CLI prints, so the man
/// page cannot drift from <c>--help</c>. The release build runs <c>aether __man VERSION</c>; the page is not kept in
/// the repository. The date is <c>SOURCE_DATE_EPOCH</c>'s when set (reproducible builds), else today's.
/// </summary>
internal static class ManPage
{
    /// <summary>The hidden first argument that prints the page.</summary>
    public const string Verb = "__man";

    /// <summary>The page for <paramref name="root"/>, titled with <paramref name="version"/> when given.</summary>
    public static string Write(RootCommand root, string? version)
    {
        var date = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH") is { } epoch && long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime
            : DateTime.UtcNow;
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $".TH AETHER 1 \"{date:yyyy-MM-dd}\" \"aether {Escape(version ?? "")}\" \"User Commands\"\n");
        page.Append(".SH NAME\naether \\- a declarative, self\\-healing controller for Linux network namespaces\n");
        page.Append(".SH SYNOPSIS\n.B aether\n.I COMMAND\n.RI [ OPTIONS ]\n");
        page.Append(".SH DESCRIPTION\n");
        Text(page, root.Description ?? "", skipFirstLine: true);
        Options(page, root);
        page.Append(".SH COMMANDS\n");
        foreach (var command in Visible(root))
        {
            Command(page, command, "aether");
        }

        page.Append("""
            .SH EXIT STATUS
            .TP
            .B 0
            Converged, or in sync.
            .TP
            .B 1
            A kernel or runtime failure, or a conflict with objects that are not Aether's.
            .TP
            .B 2
            Invalid input (file or arguments); nothing was touched.
            .TP
            .B 3
            .BR diff :
            changes are pending.
            .SH ENVIRONMENT
            .TP
            .B AETHER_STATE_DIR
            Where last\-applied records are kept when \fB\-\-state\-dir\fR is not given (default /var/lib/aether).
            .SH SEE ALSO
            .BR ip (8),
            .BR ip\-netns (8),
            .BR wg (8),
            .BR nft (8)

            """);
        return page.ToString().TrimEnd('\n');
    }

    private static IEnumerable<Command> Visible(Command command) => command.Subcommands.Where(c => !c.Hidden);

    private static void Command(StringBuilder page, Command command, string parent)
    {
        var path = parent + " " + command.Name;
        page.Append(".SS \"").Append(Escape(path)).Append(Synopsis(command)).Append("\"\n");
        Text(page, command.Description ?? "", skipFirstLine: false);
        Options(page, command);
        foreach (var sub in Visible(command))
        {
            Command(page, sub, path);
        }
    }

    private static string Synopsis(Command command) =>
        string.Concat(command.Arguments.Where(a => !a.Hidden).Select(a => " " + Escape(a.Name)));

    private static void Options(StringBuilder page, Command command)
    {
        foreach (var argument in command.Arguments.Where(a => !a.Hidden && a.Description is { Length: > 0 }))
        {
            page.Append(".TP\n.I ").Append(Escape(argument.Name)).Append('\n').Append(Escape(argument.Description!.ReplaceLineEndings(" "))).Append('\n');
        }

        foreach (var option in command.Options.Where(o => !o.Hidden && o.Name is not ("--help" or "--version")))
        {
            var names = option.Aliases.OrderBy(a => a.Length).Append(option.Name).Distinct(StringComparer.Ordinal)
                .Select(n => "\\fB" + Escape(n) + "\\fR");
            var value = option.HelpName is { Length: > 0 } help ? " \\fI" + Escape(help) + "\\fR" : "";
            page.Append(".TP\n").Append(string.Join(", ", names)).Append(value).Append('\n')
                .Append(Escape((option.Description ?? "").ReplaceLineEndings(" "))).Append('\n');
        }
    }

    /// <summary>A help text as paragraphs: its <c>Example:</c>/<c>Examples:</c> blocks as literal, indented lines.</summary>
    private static void Text(StringBuilder page, string text, bool skipFirstLine)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n').Skip(skipFirstLine ? 1 : 0).ToList();
        var literal = false;
        var paragraph = new List<string>();
        void Flush()
        {
            if (paragraph.Count > 0)
            {
                page.Append(".PP\n").Append(Escape(string.Join(' ', paragraph))).Append('\n');
                paragraph.Clear();
            }
        }

        foreach (var line in lines)
        {
            if (line.TrimEnd() is "Example:" or "Examples:")
            {
                Flush();
                if (literal)
                {
                    page.Append(".fi\n.RE\n");
                }

                page.Append(".PP\n").Append(line.TrimEnd()).Append("\n.RS 4\n.nf\n");
                literal = true;
            }
            else if (literal)
            {
                if (line.Trim().Length > 0)
                {
                    page.Append(Escape(line.Trim())).Append('\n');
                }
            }
            else if (line.Trim().Length == 0)
            {
                Flush();
            }
            else
            {
                paragraph.Add(line.Trim());
            }
        }

        Flush();
        if (literal)
        {
            page.Append(".fi\n.RE\n");
        }
    }

    /// <summary>Text safe in roff: backslashes and dashes escaped, characters beyond ASCII as <c>\[uXXXX]</c> (troff
    /// reads bytes, not UTF-8), and no line starting with a control character.</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            _ = rune.Value switch
            {
                '\\' => escaped.Append("\\e"),
                '-' => escaped.Append("\\-"),
                < 128 => escaped.Append((char)rune.Value),
                _ => escaped.Append(CultureInfo.InvariantCulture, $"\\[u{rune.Value:X4}]"),
            };
        }

        return escaped.Length > 0 && escaped[0] is '.' or '\'' ? "\\&" + escaped : escaped.ToString();
    }
}
