namespace Aether.Cli.Tests;

/// <summary>aether(1), written by the CLI from its own help: groff reads it without a warning, and man renders every
/// command and the options with their help text.</summary>
public sealed class ManPageTests
{
    [Fact]
    public async Task The_man_page_has_every_command_and_groff_reads_it_without_warnings()
    {
        var page = await Cli.RunAsync("__man", "1.2.3");
        Assert.True(page.Code == 0, page.ToString());
        Assert.StartsWith(".TH AETHER 1 ", page.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"aether 1.2.3\"", page.Stdout, StringComparison.Ordinal);

        var dir = Directory.CreateTempSubdirectory("aetman");
        try
        {
            var file = Path.Combine(dir.FullName, "aether.1");
            await File.WriteAllTextAsync(file, page.Stdout);
            var (lint, lintErrors) = await RunAsync("groff", "-man", "-ww", "-z", file);
            Assert.True(lint == 0 && lintErrors.Length == 0, $"groff exit {lint}: {lintErrors}");

            var (code, rendered) = await RunAsync("man", "-P", "cat", "-l", file);
            Assert.True(code == 0, rendered);
            var text = Plain(rendered);
            foreach (var command in new[] { "aether apply", "aether diff", "aether destroy", "aether run", "aether ns list", "aether hub add", "aether lab deploy", "aether completion", "aether wg genkey" })
            {
                Assert.Contains(command, text, StringComparison.Ordinal);
            }

            Assert.Contains("--state-dir", text, StringComparison.Ordinal);
            Assert.Contains("EXIT STATUS", text, StringComparison.Ordinal);
            Assert.Contains("aether apply -f topo.yaml", text, StringComparison.Ordinal); // an example, verbatim
            Assert.DoesNotContain("__complete", text, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>man's output without overstrikes (bold as X\bX, underline as _\bX).</summary>
    private static string Plain(string text)
    {
        var chars = new System.Text.StringBuilder();
        foreach (var c in text)
        {
            if (c == '\b')
            {
                chars.Length--;
            }
            else
            {
                chars.Append(c);
            }
        }

        return chars.ToString().Replace('\u2010', '-').Replace('\u2212', '-');
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] args)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync(program == "man" ? "env" : program, program == "man" ? ["MANWIDTH=200", "man", .. args] : args);
        return program == "groff" ? (code, stderr) : (code, stdout + stderr);
    }
}
