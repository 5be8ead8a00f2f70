namespace Aether.Labs.Cluster.Tests.Agent;

/// <summary>Tests that time the agents' kernel-woken repairs run alone, not beside this project's other classes:
/// beside the in-process agents of those (several agents and frame probes per class on 2 cores) the repair of a
/// re-made node namespace missed its 10 s bound in 2 of 3 whole-project runs, while alone it takes about 0.1 s.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelTimingCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "kernel timing";
}
