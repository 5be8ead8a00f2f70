namespace Aether.Cli.Tests;

/// <summary><c>aether agent --ovsdb</c>: only a local socket (<c>unix:PATH</c>, or an absolute path) is taken; anything
/// else exits 2 naming the option, before the agent connects to anything (its database here does not exist).</summary>
public sealed class AgentOvsdbOptionTests
{
    [Theory]
    [InlineData("tcp:127.0.0.1:6640", "only unix:PATH is supported")]
    [InlineData("ssl:127.0.0.1:6640", "only unix:PATH is supported")]
    [InlineData("db.sock", "only unix:PATH is supported")]
    [InlineData("unix:relative/db.sock", "the path must be absolute")]
    public async Task A_bad_ovsdb_endpoint_exits_2_naming_the_option(string endpoint, string says)
    {
        var result = await Cli.RunAsync(["agent", "--db", "postgres://nobody@127.0.0.1:1/none", "--host-id", "h1", "--underlay", "192.0.2.1", "--ovsdb", endpoint]);
        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("--ovsdb: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(says, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("agent h1", result.Stdout, StringComparison.Ordinal); // it never started
    }
}
