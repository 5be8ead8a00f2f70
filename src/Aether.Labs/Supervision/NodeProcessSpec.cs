namespace Aether.Labs.Supervision;

/// <summary>What a node runs: the command, where its output goes, where it starts, and whether it gets its
/// namespace's own view of <c>/sys</c>.</summary>
public sealed record NodeProcessSpec
{
    /// <summary>Describes a command and its log.</summary>
    /// <param name="argv">The program and its arguments. A program without <c>/</c> is looked up in <c>PATH</c>; a
    /// relative path is taken from <see cref="WorkingDirectory"/>.</param>
    /// <param name="logPath">The log file: the process's stdout and stderr are appended to it, and so is a line for
    /// each start and exit. Its directory is made when missing.</param>
    /// <exception cref="ArgumentException">The command is empty, or a path is empty.</exception>
    public NodeProcessSpec(IReadOnlyList<string> argv, string logPath)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentException.ThrowIfNullOrEmpty(logPath);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0]))
        {
            throw new ArgumentException("the command is empty", nameof(argv));
        }

        if (argv.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException("an argument is null or contains NUL", nameof(argv));
        }

        Argv = [.. argv];
        LogPath = logPath;
    }

    /// <summary>The program and its arguments.</summary>
    public IReadOnlyList<string> Argv { get; }

    /// <summary>The log file.</summary>
    public string LogPath { get; }

    /// <summary>The process's working directory, and what relative program paths are taken from; null for this
    /// process's own.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set (or replaced) in the environment the process inherits from this one.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Whether the process gets a <c>/sys</c> that shows its namespace's network devices, as
    /// <c>ip netns exec</c> gives it: it starts in a mount namespace of its own (propagation slave, so nothing it
    /// mounts is seen outside and namespaces deleted outside go there too), where <c>/sys</c> is replaced by a sysfs
    /// mounted from inside the network namespace. Needs <c>unshare</c> (util-linux). Default true.</summary>
    public bool PrivateSys { get; init; } = true;

    /// <summary>The process of a lab node: its <see cref="LabNode.Exec"/>, started in the lab file's directory (so
    /// the file's relative paths, <c>frr/run-frr.sh</c>, are relative to the file), logging to
    /// <see cref="LogPathOf"/>.</summary>
    /// <param name="lab">The lab; its <see cref="LabSpec.SourcePath"/> gives the working directory (this process's
    /// own for a lab not read from a file).</param>
    /// <param name="node">The node; its <see cref="LabNode.Exec"/> must not be empty.</param>
    /// <param name="stateDirectory">The state root of the lab engine (<c>/var/lib/aether</c> by default).</param>
    /// <exception cref="ArgumentException">The node has no process.</exception>
    public static NodeProcessSpec ForNode(LabSpec lab, LabNode node, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        if (node.Exec.Count == 0)
        {
            throw new ArgumentException($"node {node.Name} of lab {lab.Name} has no exec", nameof(node));
        }

        var directory = lab.SourcePath is null ? null : Path.GetDirectoryName(Path.GetFullPath(lab.SourcePath));
        return new NodeProcessSpec(node.Exec, LogPathOf(stateDirectory, lab.Name, node.Name)) { WorkingDirectory = directory };
    }

    /// <summary>Where a node's log goes: <c>STATE/labs/LAB/NODE.log</c>.</summary>
    public static string LogPathOf(string stateDirectory, string lab, string node) =>
        Path.Combine(stateDirectory, "labs", lab, node + ".log");
}
