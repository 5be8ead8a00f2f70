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

/// <summary>
/// Reads topology files. Every problem is reported at once, each with its file, line and column and a message
/// naming the field (<c>links[1].peer.name</c>); a <see cref="TopologySpec"/> is produced only when there are none.
/// Nothing here touches the kernel.
/// </summary>
public static class TopologyLoader
{
    /// <summary>The longest topology name: it is written into link marks (<c>aether:NAME</c>, within the kernel's
    /// 128-byte alias) and names the state directory.</summary>
    public const int MaxNameLength = 48;

    /// <summary>Keys allowed at the top level.</summary>
    internal static readonly IReadOnlyList<string> RootKeys = ["name", "namespaces", "links", "routes"];

    /// <summary>Keys allowed in a <c>namespaces</c> item.</summary>
    internal static readonly IReadOnlyList<string> NamespaceKeys = ["name", "sysctls", "nat"];

    /// <summary>Keys allowed in a namespace's <c>nat</c> item (one rule each).</summary>
    internal static readonly IReadOnlyList<string> NatKeys = ["masquerade"];

    /// <summary>Keys allowed in a <c>masquerade</c> rule.</summary>
    internal static readonly IReadOnlyList<string> MasqueradeKeys = ["source", "out"];

    /// <summary>Keys allowed in a <c>links</c> item.</summary>
    internal static readonly IReadOnlyList<string> LinkKeys =
        ["name", "kind", "namespace", "up", "mtu", "master", "addresses", "peer", "vni", "remote", "local", "port", "underlay", "parent", "mode",
         "privateKey", "privateKeyFile", "listenPort", "fwmark", "peers"];

    /// <summary>Keys allowed in a WireGuard link's <c>peers</c> item.</summary>
    internal static readonly IReadOnlyList<string> WireGuardPeerKeys = ["publicKey", "endpoint", "allowedIPs", "persistentKeepalive", "presharedKeyFile"];

    /// <summary>The value of a VXLAN's <c>underlay</c> that means the host namespace (the one a link without
    /// <c>namespace</c> is in).</summary>
    internal const string HostUnderlay = "host";

    /// <summary>Keys allowed in a veth's <c>peer</c>.</summary>
    internal static readonly IReadOnlyList<string> PeerKeys = ["name", "namespace", "addresses"];

    /// <summary>Keys allowed in a <c>routes</c> item.</summary>
    internal static readonly IReadOnlyList<string> RouteKeys = ["namespace", "to", "via", "dev", "metric", "table", "onlink"];

    /// <summary>The values of a link's <c>kind</c>.</summary>
    internal static readonly IReadOnlyList<string> LinkKinds = ["veth", "bridge", "vxlan", "macvlan", "wireguard"];

    /// <summary>The values of a macvlan's <c>mode</c>.</summary>
    internal static readonly IReadOnlyList<string> MacvlanModes = ["private", "vepa", "bridge", "passthru", "source"];

    /// <summary>Reads and validates the file at <paramref name="path"/>. A file that cannot be read, or is refused by
    /// <see cref="DefinitionFile"/>'s limits, gives one error saying why.</summary>
    public static TopologyLoadResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var read = DefinitionFile.Read(path);
        if (read.Text is not { } text)
        {
            return new TopologyLoadResult(null, [Error(path, read.Problem!)]);
        }

        var result = Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)));
        return result.Topology is null ? result : result with { Topology = result.Topology with { SourcePath = path } };
    }

    /// <summary>Validates the YAML text <paramref name="yaml"/>; <paramref name="fileName"/> is only used in the
    /// errors (<c>topo.yaml:7:11: links[0].mtu: 70000 is outside 68..65535</c>).</summary>
    public static TopologyLoadResult Parse(string yaml, string fileName) => Parse(yaml, fileName, null);

    /// <summary>Validates <paramref name="yaml"/>, with relative key files (<c>privateKeyFile</c>) looked up in
    /// <paramref name="baseDirectory"/> (null: the working directory).</summary>
    internal static TopologyLoadResult Parse(string yaml, string fileName, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        if (DefinitionFile.CheckText(yaml) is { } tooBig)
        {
            return new TopologyLoadResult(null, [Error(fileName, tooBig)]);
        }

        var errors = new TopologyErrors(fileName);
        var spec = TopologyReader.Read(yaml, errors, baseDirectory);
        var sorted = errors.InFileOrder();
        return sorted.Count == 0 && spec is not null
            ? new TopologyLoadResult(spec, [])
            : new TopologyLoadResult(null, sorted);
    }

    private static TopologyError Error(string file, DefinitionProblem problem) => new(file, problem.Line, problem.Column, problem.Message);
}
