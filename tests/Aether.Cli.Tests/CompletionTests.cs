namespace Aether.Cli.Tests;

/// <summary>
/// <c>aether completion bash|zsh|fish</c>: each script is loaded into the real shell and asked what completes, as a
/// Tab would ask it (bash: the <c>_aether</c> function with COMP_WORDS; fish: <c>complete -C</c>; zsh: the script
/// parsed by zsh and its question asked through the same words). The answers come from the built CLI's command tree.
/// </summary>
public sealed class CompletionTests : CliTest
{
    [Fact]
    public async Task Bash_completes_commands_subcommands_options_their_values_and_namespace_names()
    {
        var script = Write("aether.bash", (await Cli.RunAsync("completion", "bash")).Stdout);
        Assert.Equal(["apply"], await BashAsync(script, "ap"));
        Assert.Equal(["hub"], await BashAsync(script, "hu"));
        Assert.Contains("attach", await BashAsync(script, "hub", "a"));
        Assert.Contains("--output", await BashAsync(script, "apply", "--o"));
        Assert.Equal(["json", "text"], await BashAsync(script, "ns", "list", "-o", ""));

        // Namespace names: the test's own namespace is among what `ns del` completes with its token.
        Assert.True((await Cli.RunAsync("ns", "add", Ns)).Code == 0);
        Assert.Equal([Ns], await BashAsync(script, "ns", "del", Box.Token + "n"));

        // Nothing offered for a file argument: the script's `-o default` falls back to file names.
        Assert.Empty(await BashAsync(script, "apply", "-f", Path.Combine(Dir, "to")));
        var spec = await RunAsync("bash", "-c", $"source {script}; complete -p aether");
        Assert.Contains("-o default", spec, StringComparison.Ordinal);
        Assert.Contains("-F _aether aether", spec, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fish_completes_through_complete_C()
    {
        var script = Write("aether.fish", (await Cli.RunAsync("completion", "fish")).Stdout);
        var bin = BinDirectory();
        var output = await RunAsync("fish", "--no-config", "-c", $"set -x PATH {bin} $PATH; source {script}; complete -C 'aether ap'; echo ---; complete -C 'aether ns list -o '; echo ---; complete -C 'aether hub a'");
        var parts = output.Split("---\n");
        Assert.Equal("apply", Names(parts[0]).Single());
        Assert.Equal(["json", "text"], Names(parts[1]));
        Assert.Contains("attach", Names(parts[2]));
        Assert.Contains("\t", parts[0], StringComparison.Ordinal); // with its description
    }

    [Fact]
    public async Task Zsh_parses_the_script_and_its_question_completes_the_same_words()
    {
        var text = (await Cli.RunAsync("completion", "zsh")).Stdout;
        Assert.StartsWith("#compdef aether\n", text, StringComparison.Ordinal);
        var script = Write("_aether", text);
        _ = await RunAsync("zsh", "-n", script); // exit 0: zsh parses it

        // The script's function, with compsys's _describe and _files replaced by stand-ins that print what they got,
        // run on the words of `aether hub a<TAB>` and `aether apply -f <TAB>`.
        var bin = BinDirectory();
        var probe = $$"""
            PATH={{bin}}:$PATH
            compdef() { :; }
            _describe() { print -l -- "${(@P)3}"; }
            _files() { print -- FILES; }
            source {{script}}
            words=(aether hub a); CURRENT=3; _aether
            print -- ---
            words=(aether apply -f ''); CURRENT=4; _aether
            """;
        var output = await RunAsync("zsh", "-f", "-c", probe);
        var parts = output.Split("---\n");
        Assert.Contains(Names(parts[0].Replace(':', '\t')), n => n == "attach");
        Assert.Equal("FILES", parts[1].Trim());
    }

    [Fact]
    public async Task A_malformed_question_exits_2_and_an_unknown_shell_is_refused()
    {
        var bad = await Cli.RunAsync("__complete", "x", "aether");
        Assert.True(bad.Code == 2, bad.ToString());
        var shell = await Cli.RunAsync("completion", "tcsh");
        Assert.True(shell.Code == 2, shell.ToString());
        Assert.Contains("tcsh", shell.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("__complete", (await Cli.RunAsync("--help")).Stdout, StringComparison.Ordinal);
    }

    private static string[] Names(string lines) =>
        [.. lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).Order(StringComparer.Ordinal)];

    /// <summary>The directory of the CLI binary the tests run, to put first on the shells' PATH as <c>aether</c>.</summary>
    private string BinDirectory()
    {
        var bin = Path.Combine(Dir, "bin");
        Directory.CreateDirectory(bin);
        var link = Path.Combine(bin, "aether");
        if (!System.IO.File.Exists(link))
        {
            System.IO.File.CreateSymbolicLink(link, Cli.BinaryPath);
        }

        return bin;
    }

    /// <summary>What <c>_aether</c> puts in COMPREPLY for <c>aether WORDS</c> (the last word is the one completed).</summary>
    private async Task<string[]> BashAsync(string script, params string[] words)
    {
        var quoted = string.Join(' ', words.Select(w => "'" + w + "'"));
        var output = await RunAsync("bash", "-c", $"PATH={BinDirectory()}:$PATH; source {script}; COMP_WORDS=(aether {quoted}); COMP_CWORD={words.Length}; _aether; printf '%s\\n' \"${{COMPREPLY[@]}}\"");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync(program, args);
        Assert.True(code == 0, $"{program} exit {code}: {stderr}");
        return stdout;
    }
}
