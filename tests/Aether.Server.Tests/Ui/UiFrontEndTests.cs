using System.Text.RegularExpressions;

namespace Aether.Server.Tests.Ui;

/// <summary>The web view's own unit tests (Vitest, in <c>src/Aether.Server/web</c>: the SSE parser, the model, the
/// tables and panels in jsdom), run by <c>npm test</c> as part of this suite. The project's build ran <c>npm ci</c>
/// there already.</summary>
public sealed partial class UiFrontEndTests
{
    [Fact]
    public async Task Vitest_passes()
    {
        var web = Path.Combine(Aether.Cli.Tests.Cli.RepositoryRoot, "src", "Aether.Server", "web");
        Assert.True(Directory.Exists(Path.Combine(web, "node_modules")), $"{web}/node_modules is missing: the build of Aether.Server runs npm ci");
        var (code, stdout, stderr) = await Ip.ExecAsync(TimeSpan.FromMinutes(3), "npm", "--prefix", web, "test", "--", "--reporter=default", "--no-color");
        Assert.True(code == 0, $"npm test exited {code}:\n{stdout}\n{stderr}");
        var summary = TestsLine().Match(stdout);
        Assert.True(summary.Success, "no 'Tests N passed' line in:\n" + stdout);
        Assert.True(int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 17, summary.Value);
        Assert.DoesNotContain("failed", summary.Value, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Tests\s+(\d+) passed[^\n]*")]
    private static partial Regex TestsLine();
}
