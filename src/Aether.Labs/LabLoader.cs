using Aether.Labs.Yaml;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>One problem in a lab file (or a profile file), where it is.</summary>
/// <param name="File">The file (as given).</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">What is wrong, naming the field (<c>links[1].endpoints[0]: node 'r3' is not in nodes</c>).</param>
public sealed record LabError(string File, int Line, int Column, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A lab file read: the lab, or every problem found in it (never both), and the text read.</summary>
/// <param name="Lab">The lab when the file is valid.</param>
/// <param name="Errors">Every problem, in file order.</param>
/// <param name="Text">The file's text (what a store keeps as the lab's definition), or null when it could not be
/// read.</param>
public sealed record LabLoadResult(LabSpec? Lab, IReadOnlyList<LabError> Errors, string? Text)
{
    /// <summary>Whether the file is valid.</summary>
    public bool IsValid => Lab is not null && Errors.Count == 0;
}

/// <summary>
/// Reads lab files. The whole file is validated before anything is touched: every problem is reported at once, each
/// with its file, line and column and a message naming the field; a <see cref="LabSpec"/> is produced only when there
/// are none. Interface names are mapped through the profiles of the nodes' kinds. Nothing here touches the kernel.
/// </summary>
public static class LabLoader
{
    /// <summary>Keys allowed at the top level.</summary>
    internal static readonly IReadOnlyList<string> RootKeys = ["name", "fabric", "nodes", "links", "cross_host"];

    /// <summary>Keys allowed in a node.</summary>
    internal static readonly IReadOnlyList<string> NodeKeys = ["kind", "namespace", "exec", "host"];

    /// <summary>Keys allowed in <c>cross_host</c>.</summary>
    internal static readonly IReadOnlyList<string> CrossHostKeys = ["mtu", "transport"];

    /// <summary>The values of <c>cross_host.mtu</c>, in the order of <see cref="CrossHostMtu"/>.</summary>
    internal static readonly IReadOnlyList<string> CrossHostMtus = ["lower", "underlay"];

    /// <summary>Keys allowed in a <c>links</c> item.</summary>
    internal static readonly IReadOnlyList<string> LinkKeys = ["endpoints", "mtu", "transport"];

    /// <summary>The values of <c>transport</c>, in the order of <see cref="CrossHostTransport"/>.</summary>
    internal static readonly IReadOnlyList<string> Transports = ["vxlan", "wireguard"];

    /// <summary>The values of <c>fabric</c>, in the order of <see cref="LabFabric"/>.</summary>
    internal static readonly IReadOnlyList<string> Fabrics = ["veth", "ovs"];

    /// <summary>The smallest MTU a link may ask for (IPv4's minimum).</summary>
    public const int MinMtu = 68;

    /// <summary>The largest MTU a link may ask for.</summary>
    public const int MaxMtu = 65535;

    /// <summary>Reads and validates the lab file at <paramref name="path"/>, mapping interface names with
    /// <paramref name="profiles"/> (by default <see cref="InterfaceProfiles.Default"/>). A file that cannot be read,
    /// or is refused by <see cref="DefinitionFile"/>'s limits, gives one error saying why.</summary>
    public static LabLoadResult Load(string path, InterfaceProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var read = DefinitionFile.Read(path);
        if (read.Text is not { } text)
        {
            return new LabLoadResult(null, [Error(path, read.Problem!)], null);
        }

        var result = Parse(text, path, profiles);
        return result.Lab is null ? result : result with { Lab = result.Lab with { SourcePath = path } };
    }

    /// <summary>Validates the lab file text <paramref name="text"/>; <paramref name="file"/> is only used in the
    /// errors (<c>lab.yaml:9:20: links[1].mtu: 70000 is outside 68..65535</c>).</summary>
    public static LabLoadResult Parse(string text, string file, InterfaceProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        if (DefinitionFile.CheckText(text) is { } tooBig)
        {
            return new LabLoadResult(null, [Error(file, tooBig)], null);
        }

        var problems = new LabProblems(file);
        var lab = LabReader.Read(text, problems, profiles ?? InterfaceProfiles.Default);
        var errors = problems.InFileOrder();
        return errors.Count == 0 && lab is not null
            ? new LabLoadResult(lab, [], text)
            : new LabLoadResult(null, errors, text);
    }

    /// <summary>A file's refusal by <see cref="DefinitionFile"/> as a <see cref="LabError"/>.</summary>
    internal static LabError Error(string file, DefinitionProblem problem) => new(file, problem.Line, problem.Column, problem.Message);
}
