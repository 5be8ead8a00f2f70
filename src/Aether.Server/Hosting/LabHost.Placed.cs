using Aether.Labs;
using Aether.Labs.Cluster;
using Aether.Labs.Cluster.Agent;
using Aether.Labs.Store;

namespace Aether.Server;

internal sealed partial class LabHost
{
    /// <summary>How long a placed lab's deploy and destroy wait for its hosts' agents.</summary>
    public static readonly TimeSpan AgentWait = TimeSpan.FromSeconds(60);

    /// <summary>Reads a lab file sent in a request: the lab, or a 400 with every problem and its position.</summary>
    public LabSpec Parse(string text)
    {
        var loaded = LabLoader.Parse(text, DefinitionFile, Profiles);
        return loaded.Lab is { } lab && loaded.Errors.Count == 0 ? lab : throw LabRequestException.InvalidLab(loaded.Errors);
    }

    /// <summary>
    /// Deploys a lab whose nodes are placed on hosts: the lab, its placements and its links' VNIs go into the database
    /// its hosts' agents share (<see cref="ClusterLabs.DeployAsync"/>), and the request waits up to
    /// <see cref="AgentWait"/> until every link is up on both ends. Only the leading controller deploys (409 on a
    /// follower, naming the leader); a host no agent registered is a 400 and nothing is written.
    /// </summary>
    public Task<(bool Created, ClusterLabStatus Status)> DeployPlacedAsync(LabSpec lab, string text, CancellationToken cancellationToken)
    {
        var cluster = Leading(lab.Name);
        return WithGateAsync(lab.Name, "deploy", async slot =>
        {
            var existed = await Store.GetLabAsync(lab.Name, Stopping).ConfigureAwait(false) is not null;
            ClusterLabStatus status;
            try
            {
                status = await cluster.Labs!.DeployAsync(lab, text, AgentWait, Stopping).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                throw LabRequestException.Invalid([new Hub.HubFieldError("definition", e.Message)], lab.Name);
            }

            slot.Controller = null;
            slot.Set(Agents, "placed on hosts: their agents keep it");
            return (!existed, status);
        }, cancellationToken);
    }

    /// <summary>A placed lab's links as its hosts' agents last reported them.</summary>
    public async Task<ClusterLabStatus> PlacedStatusAsync(LabSpec lab, CancellationToken cancellationToken)
    {
        var cluster = Cluster ?? throw NoCluster(lab.Name);
        return await cluster.Labs!.StatusAsync(lab, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The leading controller, or a 409 (a follower) / 400 (no cluster: the store is not PostgreSQL).</summary>
    public ClusterHost Leading(string lab)
    {
        var cluster = Cluster ?? throw NoCluster(lab);
        return cluster.IsLeader
            ? cluster
            : throw LabRequestException.Conflict(lab, $"this controller ({cluster.Name}) follows: placed labs are changed through the leading controller (GET /v1/cluster names it)");
    }

    /// <summary>Destroys a placed lab through its agents (under the gate), or fails when they do not finish in time.</summary>
    private async Task DestroyPlacedAsync(LabSlot slot, string name)
    {
        var cluster = Leading(name);
        if (!await cluster.Labs!.DestroyAsync(name, AgentWait, Stopping).ConfigureAwait(false))
        {
            throw LabRequestException.Failed(name, "destroy", $"not every agent removed its part within {AgentWait.TotalSeconds:0} s (its placements are gone; delete again to finish)");
        }

        slot.Set(Stopped, "deleted");
    }

    private LabRequestException NoCluster(string lab) => LabRequestException.Invalid(
        [new Hub.HubFieldError("definition", $"lab {lab} places its nodes on hosts (host:): the daemon needs the PostgreSQL database its hosts' agents share (aether serve --db postgres://USER@HOST/DB); its lab store is {Provider}")],
        lab);
}
