using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>Undoes what a failed apply created, so a value only the kernel refuses (a route whose gateway is not
    /// reachable, an address or attribute the driver rejects) leaves nothing new behind: the namespaces this apply
    /// created are deleted whole (with everything in them, veth peers included), and the links and WireGuard devices
    /// it created in namespaces that were there before (the host's too) are deleted (a device's wireguard-go ends with
    /// it). What it changed in objects that were there
    /// before (an address added to an existing link, a route, a sysctl) stays: the next apply or destroy handles it.</summary>
    /// <returns>What was undone, for the error message; and what could not be, if anything.</returns>
    private static async Task<string> RollBackAsync(StagedApplyResult applied, Session session, Action<ChangeLine> report)
    {
        var created = session.Created.ToHashSet(StringComparer.Ordinal);
        var undone = new List<string>();
        var failed = new List<string>();
        foreach (var result in applied.Results.Where(r => r.Stage is Stage.Links or Stage.Devices && !(r.Scope.Name is { } n && created.Contains(n))).Reverse())
        {
            var made = result.Result.Applied.OfType<LinkOperation>().Where(o => o is { Kind: OperationKind.Create, PeerOnly: false, Adopt: false, Move: false, Link: not null }).Select(o => ("link", o.Link!.Name))
                .Concat(result.Result.Applied.OfType<Aether.WireGuard.WireGuardOperation>().Where(o => o.Step == Aether.WireGuard.WireGuardStep.CreateDevice).Select(o => ("wireguard", o.Device)));
            foreach (var (kind, name) in made.Reverse())
            {
                try
                {
                    await session.HandleFor(result.Scope).DeleteLinkAsync(name).ConfigureAwait(false);
                    undone.Add(kind + " " + name);
                    report(new ChangeLine(ChangeKind.Delete, kind + " " + name, result.Scope.Name, "rolled back"));
                }
                catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
                {
                    // gone already
                }
                catch (NetlinkException e)
                {
                    failed.Add(kind + " " + name + ": " + e.Message);
                }
            }
        }

        foreach (var name in session.Created.AsEnumerable().Reverse())
        {
            try
            {
                session.StopWireGuardIn(name);
                NetworkNamespace.Delete(name);
                undone.Add("namespace " + name);
                report(new ChangeLine(ChangeKind.Delete, "namespace " + name, name, "rolled back"));
            }
            catch (NetlinkException e)
            {
                failed.Add("namespace " + name + ": " + e.Message);
            }
        }

        var text = undone.Count == 0 ? "nothing this apply created needed undoing" : "rolled back what this apply created (" + string.Join(", ", undone) + ")";
        return failed.Count == 0 ? text : text + "; could not undo " + string.Join("; ", failed);
    }
}
