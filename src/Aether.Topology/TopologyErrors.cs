namespace Aether.Topology;

/// <summary>The problems found in one topology file (<see cref="YamlProblems"/>), as <see cref="TopologyError"/>s.</summary>
internal sealed class TopologyErrors(string file) : YamlProblems(file)
{
    /// <summary>The problems sorted by line and column (ties in the order they were found).</summary>
    public IReadOnlyList<TopologyError> InFileOrder() => [.. Sorted().Select(p => new TopologyError(p.File, p.Line, p.Column, p.Message))];
}
