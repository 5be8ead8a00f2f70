using Aether.Topology;

namespace Aether.Labs.Yaml;

/// <summary>The problems found in one lab or profiles file (<see cref="YamlProblems"/>, shared with the topology
/// reader), as <see cref="LabError"/>s.</summary>
internal sealed class LabProblems(string file) : YamlProblems(file)
{
    /// <summary>The problems sorted by line and column (ties in the order they were found).</summary>
    public IReadOnlyList<LabError> InFileOrder() => [.. Sorted().Select(p => new LabError(p.File, p.Line, p.Column, p.Message))];
}
