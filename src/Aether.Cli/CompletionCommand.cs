using System.CommandLine;
using System.Globalization;

namespace Aether.Cli;

/// <summary>
/// <c>aether completion bash|zsh|fish</c>: a script for the shell that asks the binary what fits. The scripts hold no
/// list of commands: each Tab runs <c>aether __complete INDEX WORDS...</c>, which parses the words with the same
/// command tree the CLI runs (System.CommandLine's <see cref="ParseResult.GetCompletions"/>), so a new command or
/// option completes without a new script. System.CommandLine has no shell script writer of its own (its suggest
/// directive expects the separate dotnet-suggest tool), which is why these few lines are ours.
/// </summary>
internal static class CompletionCommand
{
    /// <summary>The hidden first argument the scripts call the binary with.</summary>
    public const string Verb = "__complete";

    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or fish." };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", """
            Print a completion script for SHELL: commands, options, option values (such as -o text|json) and
            namespace names complete on Tab; where nothing else fits, file names do.

            Examples:
              source <(aether completion bash)                        # this shell only
              aether completion bash > /etc/bash_completion.d/aether
              aether completion zsh > "${fpath[1]}/_aether"           # then: autoload -U compinit && compinit
              aether completion fish > ~/.config/fish/completions/aether.fish
            """)
        {
            shell,
        };
        command.SetAction(parse =>
        {
            Output.Line(Script(parse.GetRequiredValue(shell)).TrimEnd('\n'));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Answers <c>__complete INDEX WORD0 WORD1 ...</c>: WORD0 is the program, INDEX the word being
    /// completed (equal to the number of words when the cursor is after a space). Prints one candidate per line,
    /// <c>NAME\tDESCRIPTION</c> where there is a description; nothing when only file names fit. Exit 0, or 2 on
    /// malformed arguments.</summary>
    public static int Complete(RootCommand root, IReadOnlyList<string> args)
    {
        if (args.Count < 2 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index < 1)
        {
            Console.Error.WriteLine("usage: aether __complete INDEX PROGRAM [WORD...]");
            return ExitCodes.InvalidInput;
        }

        var words = args.Skip(1).ToList();
        var before = words.Skip(1).Take(index - 1).ToList();
        var current = index < words.Count ? words[index] : "";
        var line = string.Join(' ', before.Select(Quote).Append(Quote(current)));
        var parse = root.Parse(line);
        foreach (var item in Candidates(parse, line.Length, current))
        {
            Output.Line(item.Detail is { Length: > 0 } detail ? item.Label + "\t" + OneLine(detail) : item.Label);
        }

        return ExitCodes.Ok;
    }

    /// <summary>What fits at <paramref name="position"/> of the parsed line: System.CommandLine's completions, its hidden
    /// symbols left out, filtered by <paramref name="current"/>, the word being typed.</summary>
    internal static IEnumerable<System.CommandLine.Completions.CompletionItem> Candidates(ParseResult parse, int position, string current) =>
        parse.GetCompletions(position)
            .Where(c => c.Label.StartsWith(current, StringComparison.Ordinal) && !c.Label.StartsWith("__", StringComparison.Ordinal))
            .Where(c => c.Label is not ("-?" or "/?" or "/h")) // help's Windows-style aliases
            .Where(c => !(c.Label.StartsWith('-') && !current.StartsWith('-') && current.Length == 0 && HasSubcommands(parse)))
            .DistinctBy(c => c.Label, StringComparer.Ordinal)
            .OrderBy(c => c.Label.StartsWith('-') ? 1 : 0).ThenBy(c => c.Label, StringComparer.Ordinal);

    /// <summary>Whether the command the words reached has subcommands (then an empty word offers those, and options
    /// only once a dash is typed, as git's completion does).</summary>
    private static bool HasSubcommands(ParseResult parse) => parse.CommandResult.Command.Subcommands.Any(c => !c.Hidden);

    /// <summary>The script for <paramref name="shell"/>: bash, zsh or fish.</summary>
    public static string Script(string shell) => shell switch
    {
        "bash" => Bash,
        "zsh" => Zsh,
        "fish" => Fish,
        _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, "bash, zsh or fish"),
    };

    /// <summary>A word quoted for System.CommandLine's own splitting of a command line (double quotes around words
    /// with spaces or quotes; an empty word stays empty: it is the cursor's place).</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.AsSpan().IndexOfAny(" \t\"") >= 0 ? "\"" + word.Replace("\"", "", StringComparison.Ordinal) + "\"" : word;

    /// <summary>A description's first sentence, at most 80 characters (shells show it beside the name).</summary>
    private static string OneLine(string text)
    {
        var first = text.ReplaceLineEndings(" ").Split(". ")[0].Split(": ")[0].TrimEnd('.');
        return first.Length <= 80 ? first : first[..79].TrimEnd() + "…";
    }

    // bash: the words as bash split them (COMP_WORDS), the candidates' names only; `-o default` gives file names
    // where the binary offers nothing.
    private const string Bash = """
        # bash completion for aether (aether completion bash)
        _aether() {
            local IFS=$'\n' line
            local -a found=()
            while IFS= read -r line; do
                found+=("${line%%$'\t'*}")
            done < <("${COMP_WORDS[0]}" __complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null)
            COMPREPLY=("${found[@]}")
        }
        complete -o default -o nosort -F _aether aether

        """;

    // zsh: the same question through `words` and CURRENT (1-based); names with their descriptions; _files where the
    // binary offers nothing.
    private const string Zsh = """
        #compdef aether
        # zsh completion for aether (aether completion zsh)
        _aether() {
            local -a found
            local line
            found=()
            while IFS= read -r line; do
                if [[ "$line" == *$'\t'* ]]; then
                    found+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
                else
                    found+=("${line//:/\\:}")
                fi
            done < <("${words[1]}" __complete "$((CURRENT - 1))" "${words[@]}" 2>/dev/null)
            if (( ${#found} )); then
                _describe -V aether found
            else
                _files
            fi
        }
        if [[ "$funcstack[1]" == "_aether" ]]; then
            _aether "$@"
        else
            compdef _aether aether
        fi

        """;

    // fish: the tokens before the cursor (commandline -opc) and the one being typed (commandline -ct); names and
    // descriptions are what fish's `complete -a` takes (NAME<TAB>DESCRIPTION); file names where nothing is offered.
    private const string Fish = """
        # fish completion for aether (aether completion fish)
        function __aether_complete
            set -l before (commandline -opc)
            set -l current (commandline -ct)
            set -l index (count $before)
            $before[1] __complete $index $before $current 2>/dev/null
        end
        complete -c aether -f -a '(__aether_complete)'
        complete -c aether -F -n 'test (count (__aether_complete)) -eq 0'

        """;
}
