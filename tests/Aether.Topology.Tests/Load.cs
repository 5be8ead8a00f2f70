namespace Aether.Topology.Tests;

/// <summary>Helpers: parse a YAML text and pick out the one expected error.</summary>
internal static class Load
{
    public const string File = "topo.yaml";

    public static TopologyLoadResult Parse(string yaml) => TopologyLoader.Parse(yaml, File);

    public static TopologySpec Valid(string yaml)
    {
        var result = Parse(yaml);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Empty(result.Errors);
        return result.Topology!;
    }

    /// <summary>Asserts exactly one error, at <paramref name="line"/>:<paramref name="column"/>, whose message starts
    /// with <paramref name="field"/> followed by ": " and contains <paramref name="text"/>.</summary>
    public static TopologyError Error(string yaml, int line, int column, string field, string text)
    {
        var result = Parse(yaml);
        Assert.Null(result.Topology);
        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(File, error.File);
        Assert.StartsWith(field + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal($"{File}:{line}:{column}: {error.Message}", error.ToString());
        return error;
    }

    /// <summary>The repository root (where Aether.slnx is).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Aether.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Aether.slnx not found above " + AppContext.BaseDirectory);
    }
}
