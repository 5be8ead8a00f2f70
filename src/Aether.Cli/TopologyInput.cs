using Aether.Topology;

namespace Aether.Cli;

/// <summary>Where the CLI reads topology files: the one place that names the loader.</summary>
internal static class TopologyInput
{
    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    internal static TopologyLoadResult Load(string path) => TopologyLoader.LoadFile(path);
}
