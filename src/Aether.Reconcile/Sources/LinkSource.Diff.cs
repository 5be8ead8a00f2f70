using Aether.Netlink.Rtnl;

namespace Aether.Reconcile.Sources;

/// <summary>The diff: desired links against what the namespace (and the peers' namespaces) hold.</summary>
public sealed partial class LinkSource
{
    /// <inheritdoc/>
    public override Plan Diff(LinkObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<int, Link>? byIndex = null; // made by the first link with a master: most namespaces have none
        foreach (var want in _desired)
        {
            claimed.Add(want.Name);
            if (want.Kind is Veth { PeerName: { } samePeer, PeerNamespace: null })
            {
                claimed.Add(samePeer); // the peer carries the mark too, and lives here
            }

            var target = ObjectKey.Link(Scope, want.Name);
            if (!observed.Links.TryGetValue(want.Name, out var have))
            {
                if (observed.Origins.GetValueOrDefault(want.Name) is { } from)
                {
                    var where = want.Origin!.Namespace is null ? from.Name : $"{from.Name} in {want.Origin.Namespace}";
                    var foreign = !IsOurs(from);
                    if (want.Origin.Namespace is null)
                    {
                        claimed.Add(from.Name);
                    }

                    ops.Add(new LinkOperation(OperationKind.Update, target, $"moved from {where}" + (foreign ? $" (not ours: alias '{from.Alias}')" : string.Empty), want, from.Index)
                    {
                        Move = true,
                        Conflict = foreign && _conflicts == ConflictPolicy.Report,
                        Adopt = foreign,
                    });
                    continue;
                }

                // Our end is missing but a link holds the peer's name in the peer's namespace: someone else's is a
                // conflict (creating would fail with EEXIST after the plan said all was well); ours is the orphan of
                // a pair half torn down, deleted before the pair is made again.
                if (want.Kind is Veth { PeerNamespace: not null } && observed.Peers.GetValueOrDefault(want.Name) is { } orphan)
                {
                    if (!IsOurs(orphan))
                    {
                        ops.Add(new LinkOperation(OperationKind.Create, ObjectKey.LinkPeer(Scope, want.Name), $"{orphan.Name} exists in the peer's namespace and is not ours (alias '{orphan.Alias}')", want, orphan.Index) { Conflict = true });
                        continue;
                    }

                    ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.LinkPeer(Scope, want.Name), "an orphan: its partner is missing", want, orphan.Index) { PeerOnly = true });
                }

                ops.Add(new LinkOperation(OperationKind.Create, target, "missing", want, 0));
                continue;
            }

            var adopt = false;
            if (!IsOurs(have))
            {
                if (_conflicts == ConflictPolicy.Report)
                {
                    ops.Add(new LinkOperation(OperationKind.Update, target, $"exists but is not ours (alias '{have.Alias}')", want, have.Index) { Conflict = true });
                    continue;
                }

                adopt = true;
            }

            if (Mismatch(want, have, observed) is { } why)
            {
                if (adopt)
                {
                    ops.Add(new LinkOperation(OperationKind.Update, target, $"is not ours and {why}: adopting it would mean deleting it", want, have.Index) { Conflict = true });
                    continue;
                }

                var strayPeer = observed.Peers.GetValueOrDefault(want.Name);
                if (strayPeer is not null && !IsOurs(strayPeer))
                {
                    ops.Add(new LinkOperation(OperationKind.Update, ObjectKey.LinkPeer(Scope, want.Name), $"{why}, and {strayPeer.Name} is not ours (alias '{strayPeer.Alias}')", want, strayPeer.Index) { Conflict = true });
                    continue;
                }

                ops.Add(new LinkOperation(OperationKind.Delete, target, why, null, have.Index));
                if (strayPeer is not null)
                {
                    ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.LinkPeer(Scope, want.Name), "a stale peer: " + why, want, strayPeer.Index) { PeerOnly = true });
                }

                ops.Add(new LinkOperation(OperationKind.Create, target, "recreated: " + why, want, 0));
                continue;
            }

            var changes = Changes(want, have, observed, ref byIndex);
            if (adopt)
            {
                changes.Insert(0, $"adopted (alias was '{have.Alias}')");
            }

            if (changes.Count > 0)
            {
                ops.Add(new LinkOperation(OperationKind.Update, target, string.Join(", ", changes), want, have.Index) { Adopt = adopt });
            }

            // The peer follows its partner up or down, and has the MTU the veth asks for it (PeerMtu), if any.
            if (want.Kind is Veth veth && observed.Peers.GetValueOrDefault(want.Name) is { } peer
                && (peer.IsUp != want.Up || (veth.PeerMtu is int peerMtu && peer.Mtu != peerMtu)))
            {
                var peerWhy = peer.IsUp != want.Up ? $"{peer.Name} is {UpDown(peer.IsUp)}, want {UpDown(want.Up)}" : $"{peer.Name} has MTU {peer.Mtu}, want {veth.PeerMtu}";
                ops.Add(new LinkOperation(OperationKind.Update, ObjectKey.LinkPeer(Scope, want.Name), peerWhy, want, peer.Index) { PeerOnly = true });
            }
        }

        foreach (var have in observed.Links.Values)
        {
            if (IsOurs(have) && !claimed.Contains(have.Name) && !Claimed.Contains(have.Name))
            {
                ops.Add(new LinkOperation(OperationKind.Delete, ObjectKey.Link(Scope, have.Name), "no longer desired", null, have.Index));
            }
        }

        return Plan.Of(ops);
    }

    private static string UpDown(bool up) => up ? "up" : "down";

    /// <summary>What can be changed in place: up/down, MTU, master.</summary>
    private static List<string> Changes(DesiredLink want, Link have, LinkObservation observed, ref Dictionary<int, Link>? byIndex)
    {
        var changes = new List<string>();
        if (want.Up != have.IsUp)
        {
            changes.Add($"{UpDown(have.IsUp)}, want {UpDown(want.Up)}");
        }

        if (want.Mtu is int mtu && have.Mtu != mtu)
        {
            changes.Add($"MTU {have.Mtu}, want {mtu}");
        }

        var master = have.MasterIndex is int m and > 0 ? (byIndex ??= observed.Links.Values.ToDictionary(l => l.Index)).GetValueOrDefault(m)?.Name ?? $"ifindex {m}" : null;
        if (!string.Equals(master, want.Master, StringComparison.Ordinal))
        {
            var wantMaster = want.Master is null ? "none" : want.Master + (observed.Links.ContainsKey(want.Master) ? string.Empty : " (missing)");
            changes.Add($"master {master ?? "none"}, want {wantMaster}");
        }

        return changes;
    }

    /// <summary>Why a link must be recreated, or null when it can be kept: it is of another kind; a veth whose peer
    /// is missing or is not its partner (the peer ifindex or the peer namespace's nsid do not match: the stale pair of
    /// an earlier run); a VXLAN or macvlan whose identity (VNI, port, remote, local, underlay; mode, parent) differs.</summary>
    private static string? Mismatch(DesiredLink want, Link have, LinkObservation observed)
    {
        if (!string.Equals(have.Kind, want.Kind.Kind, StringComparison.Ordinal))
        {
            return $"is a {have.Kind ?? "plain device"}, want a {want.Kind.Kind}";
        }

        var parentIndex = want.Parent is null ? null
            : want.Underlay is null ? observed.Links.GetValueOrDefault(want.Parent)?.Index
            : observed.UnderlayParents.GetValueOrDefault(want.Name);
        switch (want.Kind)
        {
            case Veth { PeerName: not null } veth:
                var peer = observed.Peers.GetValueOrDefault(want.Name);
                if (peer is null)
                {
                    // The end that should be in another namespace may sit right here (moved back, or never moved).
                    var local = veth.PeerNamespace is null || have.LinkNetNsId is not null ? null
                        : observed.Links.Values.FirstOrDefault(l => l.Index == have.LinkIndex);
                    return local is not null && string.Equals(local.Name, veth.PeerName, StringComparison.Ordinal)
                        ? $"its peer {veth.PeerName} is in the wrong namespace (here, not {veth.PeerNamespace})"
                        : $"its peer {veth.PeerName} is missing";
                }

                var expectedNsId = veth.PeerNamespace is null ? (int?)null : observed.PeerNsIds.GetValueOrDefault(want.Name, NsId.NotAssigned);
                if (have.LinkIndex != peer.Index || (expectedNsId is int id && (id < 0 || have.LinkNetNsId != id)))
                {
                    return $"its peer {veth.PeerName} is not its partner (peer ifindex {Show(have.LinkIndex)}, found {peer.Index})";
                }

                break;
            case Vxlan vx when have.KindData is Vxlan hv:
                var diffs = new List<string>();
                Compare(diffs, "VNI", hv.Id, vx.Id);
                Compare(diffs, "port", hv.Port, vx.Port ?? hv.Port);
                Compare(diffs, "remote", hv.Remote ?? hv.Group, vx.Remote ?? vx.Group ?? hv.Remote ?? hv.Group);
                Compare(diffs, "local", hv.Local, vx.Local ?? hv.Local);
                Compare(diffs, "underlay ifindex", hv.UnderlayIndex, parentIndex ?? hv.UnderlayIndex);
                if (TunnelMismatch(want, have, observed) is { } tunnel)
                {
                    diffs.Add(tunnel);
                }

                if (diffs.Count > 0)
                {
                    return string.Join(", ", diffs);
                }

                break;
            case Macvlan mv when have.KindData is Macvlan hm:
                if (hm.Mode != mv.Mode)
                {
                    return $"mode {hm.Mode}, want {mv.Mode}";
                }

                if (parentIndex is int p && have.LinkIndex != p)
                {
                    return $"parent ifindex {Show(have.LinkIndex)}, want {want.Parent} ({p})";
                }

                break;
        }

        return null;
    }

    /// <summary>Whether a VXLAN's tunnel (its socket) is in the namespace it should be: the kernel reports a VXLAN
    /// whose socket is in another namespace with that namespace's nsid (<c>IFLA_LINK_NETNSID</c>), and one whose
    /// socket is in its own namespace without it.</summary>
    private static string? TunnelMismatch(DesiredLink want, Link have, LinkObservation observed)
    {
        if (want.Underlay is null)
        {
            return have.LinkNetNsId is int other ? $"its tunnel is in another namespace (nsid {other}), want it here" : null;
        }

        var expected = observed.UnderlayNsIds.GetValueOrDefault(want.Name, NsId.NotAssigned);
        return have.LinkNetNsId switch
        {
            null => $"its tunnel is in this namespace, want it in {want.Underlay}",
            int id when expected < 0 || id != expected => $"its tunnel is in the namespace of nsid {id}, want it in {want.Underlay} (nsid {Show(expected < 0 ? null : expected)})",
            _ => null,
        };
    }

    private static void Compare<T>(List<string> diffs, string what, T have, T want)
    {
        if (!EqualityComparer<T>.Default.Equals(have, want))
        {
            diffs.Add($"{what} {have?.ToString() ?? "none"}, want {want?.ToString() ?? "none"}");
        }
    }

    private static string Show(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}
