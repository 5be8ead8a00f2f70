namespace Aether.Topology;

/// <summary>One problem in a topology file, where it is.</summary>
/// <param name="File">The file (as given).</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">What is wrong, naming the field (<c>links[2].name: 'a-very-long-name0' is 17 bytes, over the kernel's 15</c>).</param>
public sealed record TopologyError(string File, int Line, int Column, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A loaded topology, or every problem found in it (never both).</summary>
/// <param name="Topology">The topology when valid.</param>
/// <param name="Errors">Every problem, in file order.</param>
public sealed record TopologyLoadResult(TopologySpec? Topology, IReadOnlyList<TopologyError> Errors)
{
    /// <summary>Whether the file is valid.</summary>
    public bool IsValid => Topology is not null && Errors.Count == 0;
}
