namespace Aether.Labs.Tests.Files;

/// <summary>Parsing a lab text in tests, and picking out the one expected error.</summary>
internal static class LabFile
{
    public const string File = "lab.yaml";

    public static LabLoadResult Parse(string yaml, InterfaceProfiles? profiles = null) => LabLoader.Parse(yaml, File, profiles);

    public static LabSpec Valid(string yaml, InterfaceProfiles? profiles = null)
    {
        var result = Parse(yaml, profiles);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Empty(result.Errors);
        Assert.Equal(yaml, result.Text);
        return result.Lab!;
    }

    /// <summary>Asserts exactly one error, at <paramref name="line"/>:<paramref name="column"/>, whose message starts
    /// with <paramref name="field"/> followed by ": " and contains <paramref name="text"/>.</summary>
    public static LabError Error(string yaml, int line, int column, string field, string text)
    {
        var result = Parse(yaml);
        Assert.Null(result.Lab);
        Assert.False(result.IsValid);
        Assert.Equal(yaml, result.Text);
        var error = Assert.Single(result.Errors);
        Assert.Equal(File, error.File);
        Assert.StartsWith(field + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal($"{File}:{line}:{column}: {error.Message}", error.ToString());
        return error;
    }

    /// <summary>Every error of <paramref name="yaml"/> as <c>file:line:col: message</c>.</summary>
    public static IEnumerable<string> Errors(string yaml) => Parse(yaml).Errors.Select(e => e.ToString());

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

    /// <summary>The nodes as comparable values (their Exec lists by content).</summary>
    public static IEnumerable<(string Name, string Kind, string Namespace, string Exec)> Nodes(LabSpec lab) =>
        lab.Nodes.Select(n => (n.Name, n.Kind, n.Namespace, string.Join(' ', n.Exec)));
}
