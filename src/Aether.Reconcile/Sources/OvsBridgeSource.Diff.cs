using System.Globalization;
using Aether.Ovsdb;

namespace Aether.Reconcile.Sources;

/// <summary>The diff: the desired bridge and ports against the database's bridges, ports and interfaces.</summary>
public sealed partial class OvsBridgeSource
{
    /// <inheritdoc/>
    public override Plan Diff(OvsSwitchState observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        var want = Desired;
        if (want is null)
        {
            RemoveOwn(observed, keep: null, ops);
            return Plan.Of(ops);
        }

        var bridgeKey = ObjectKey.OvsBridge(Scope, want.Name);
        var bridge = observed.FindBridge(want.Name);
        if (bridge is null)
        {
            ops.Add(new OvsOperation(OperationKind.Create, bridgeKey, "missing", OvsChange.CreateBridge) { Into = want.Name, DatapathType = want.DatapathType });
        }
        else if (!IsOurs(bridge.Owner))
        {
            // Someone else's bridge where ours should be: nothing of ours can go on it.
            ops.Add(new OvsOperation(OperationKind.Update, bridgeKey, "exists but is not ours" + Mark(bridge.Owner), OvsChange.SetDatapathType) { Bridge = bridge, Conflict = true });
            return Plan.Of(ops);
        }
        else if (!string.Equals(bridge.DatapathType, want.DatapathType, StringComparison.Ordinal))
        {
            ops.Add(new OvsOperation(OperationKind.Update, bridgeKey, $"datapath_type '{bridge.DatapathType}', want '{want.DatapathType}'", OvsChange.SetDatapathType)
            {
                Bridge = bridge,
                DatapathType = want.DatapathType,
            });
        }

        foreach (var port in want.Ports)
        {
            DiffPort(observed, want, port, ops);
        }

        RemoveOwn(observed, want, ops);
        return Plan.Of(ops);
    }

    private static string Show(int? tag) => tag?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Mark(string? owner) => owner is null ? " (unmarked)" : $" ({OpenVSwitchDatabase.OwnerKey}={owner})";

    private void DiffPort(OvsSwitchState observed, DesiredOvsBridge want, DesiredOvsPort port, List<Operation> ops)
    {
        var key = ObjectKey.OvsPort(Scope, want.Name, port.Name);
        if (observed.FindPort(port.Name) is not { } at)
        {
            // No port of that name; its device may still be an interface of someone else's port (a bond, a port
            // named otherwise): adding ours would break the database's unique interface names.
            if (observed.FindInterface(port.Name) is { } holder && !IsOurs(holder.Port.Owner))
            {
                if (port.Reclaim)
                {
                    Reclaim(holder.Bridge, holder.Port, want, port, ops);
                    return;
                }

                ops.Add(new OvsOperation(OperationKind.Create, key, $"its interface is in port {holder.Port.Name} on bridge {holder.Bridge.Name}, which is not ours" + Mark(holder.Port.Owner), OvsChange.CreatePort)
                {
                    Conflict = true,
                });
                return;
            }

            ops.Add(new OvsOperation(OperationKind.Create, key, "missing", OvsChange.CreatePort) { Into = want.Name, Tag = port.Tag, Trunks = port.Trunks });
            return;
        }

        var (on, have) = at;
        if (!IsOurs(have.Owner))
        {
            if (port.Reclaim)
            {
                Reclaim(on, have, want, port, ops);
                return;
            }

            ops.Add(new OvsOperation(OperationKind.Update, key, $"exists on bridge {on.Name} but is not ours" + Mark(have.Owner), OvsChange.SetTag) { Bridge = on, Port = have, Conflict = true });
            return;
        }

        if (!string.Equals(on.Name, want.Name, StringComparison.Ordinal))
        {
            var tag = have.Tag == port.Tag ? string.Empty : $", tag {Show(have.Tag)}, want {Show(port.Tag)}";
            ops.Add(new OvsOperation(OperationKind.Update, key, $"on bridge {on.Name}, want {want.Name}{tag}", OvsChange.MovePort)
            {
                Bridge = on,
                Port = have,
                Into = want.Name,
                Tag = port.Tag,
            });
            DiffTrunks(key, on, have, port, ops); // the same row: its trunks set after the move, in the same transaction
            return;
        }

        if (have.Tag != port.Tag)
        {
            ops.Add(new OvsOperation(OperationKind.Update, key, $"tag {Show(have.Tag)}, want {Show(port.Tag)}", OvsChange.SetTag) { Bridge = on, Port = have, Tag = port.Tag });
        }

        DiffTrunks(key, on, have, port, ops);
    }

    private static void DiffTrunks(ObjectKey key, OvsBridge on, OvsPort have, DesiredOvsPort port, List<Operation> ops)
    {
        var want = port.Trunks.Distinct().Order().ToList();
        if (!have.Trunks.Order().SequenceEqual(want))
        {
            ops.Add(new OvsOperation(OperationKind.Update, key, $"trunks [{OvsChanges.ShowTrunks(have.Trunks)}], want [{OvsChanges.ShowTrunks(want)}]", OvsChange.SetTrunks)
            {
                Bridge = on,
                Port = have,
                Trunks = want,
            });
        }
    }

    /// <summary>Our device held by a port of someone else's: that port is taken out of its bridge, and ours made.</summary>
    private void Reclaim(OvsBridge on, OvsPort holder, DesiredOvsBridge want, DesiredOvsPort port, List<Operation> ops)
    {
        var key = ObjectKey.OvsPort(Scope, want.Name, port.Name);
        ops.Add(new OvsOperation(OperationKind.Delete, key, $"our device {port.Name} is held by port {holder.Name} on bridge {on.Name}, not ours" + Mark(holder.Owner) + ": taken back", OvsChange.ReclaimPort) { Bridge = on, Port = holder });
        ops.Add(new OvsOperation(OperationKind.Create, key, "taken back", OvsChange.CreatePort) { Into = want.Name, Tag = port.Tag, Trunks = port.Trunks });
    }

    /// <summary>Deletes what is ours and not desired: other bridges of ours (whole, unless a port of someone else or
    /// a desired port of ours is on one), and ports of ours anywhere else. The desired bridge's own internal port
    /// stays.</summary>
    private void RemoveOwn(OvsSwitchState observed, DesiredOvsBridge? keep, List<Operation> ops)
    {
        var desired = keep?.Ports.Select(p => p.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var bridge in observed.Bridges)
        {
            var isKept = keep is not null && string.Equals(bridge.Name, keep.Name, StringComparison.Ordinal);
            if (IsOurs(bridge.Owner) && !isKept)
            {
                var foreign = bridge.Ports.Where(p => !IsOurs(p.Owner) && !string.Equals(p.Name, bridge.Name, StringComparison.Ordinal)).Select(p => p.Name).ToList();
                var moving = bridge.Ports.Any(p => IsOurs(p.Owner) && desired.Contains(p.Name));
                if (foreign.Count == 0 && !moving)
                {
                    ops.Add(new OvsOperation(OperationKind.Delete, ObjectKey.OvsBridge(Scope, bridge.Name), "no longer desired", OvsChange.DeleteBridge) { Bridge = bridge });
                    continue;
                }

                if (foreign.Count > 0)
                {
                    // Deleting the bridge would take someone else's ports with it.
                    ops.Add(new OvsOperation(OperationKind.Delete, ObjectKey.OvsBridge(Scope, bridge.Name), $"is no longer desired but holds ports that are not ours ({string.Join(", ", foreign)})", OvsChange.DeleteBridge)
                    {
                        Bridge = bridge,
                        Conflict = true,
                    });
                }

                // Otherwise a desired port of ours is on it: it is moved first, and the next pass deletes the bridge.
            }

            foreach (var port in bridge.Ports)
            {
                if (!IsOurs(port.Owner) || desired.Contains(port.Name) || string.Equals(port.Name, bridge.Name, StringComparison.Ordinal))
                {
                    continue;
                }

                ops.Add(new OvsOperation(OperationKind.Delete, ObjectKey.OvsPort(Scope, bridge.Name, port.Name), "no longer desired", OvsChange.DeletePort) { Bridge = bridge, Port = port });
            }
        }
    }

    private bool IsOurs(string? owner) => string.Equals(owner, Owner, StringComparison.Ordinal);
}
