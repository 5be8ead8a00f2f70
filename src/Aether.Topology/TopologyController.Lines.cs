using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>What a stage of a scope should hold, by the key of the object, and as people name it. A stage the file
    /// puts nothing in answers with one shared empty array, not an iterator: most of a thousand namespaces hold
    /// something in two stages of six, and a plan asks of each.</summary>
    private IEnumerable<(ObjectKey Key, string Subject)> Expected(Stage stage, Scope scope) => stage switch
    {
        Stage.Links when _linksByScope.Contains(scope) => ExpectedLinks(scope),
        Stage.Devices when _linksByScope.Contains(scope) => ExpectedDevices(scope),
        Stage.Addresses when AddressesIn(scope).Count > 0 => ExpectedAddresses(scope),
        Stage.Routes when _routesByScope.Contains(scope) => ExpectedRoutes(scope),
        Stage.Sysctls when SysctlListIn(scope).Count > 0 => ExpectedSysctls(scope),
        Stage.Nftables when NatIn(scope).Count > 0 => [(new ObjectKey(ObjectKind.NftablesTable, scope, $"inet {NftablesSource.TablePrefix}{Owner}"), NatSubject(scope))],
        _ => NothingExpected,
    };

    private static readonly (ObjectKey Key, string Subject)[] NothingExpected = [];

    private IEnumerable<(ObjectKey Key, string Subject)> ExpectedLinks(Scope scope)
    {
        foreach (var link in _linksByScope[scope].Where(l => l.Kind != TopologyLinkKind.WireGuard))
        {
            yield return (ObjectKey.Link(scope, link.Name), Describe(link, scope));
        }
    }

    private IEnumerable<(ObjectKey Key, string Subject)> ExpectedAddresses(Scope scope)
    {
        foreach (var (link, address) in AddressesIn(scope))
        {
            var prefix = address.ToString();
            yield return (ObjectKey.Address(scope, link, prefix), $"address {prefix} on {scope.Qualify(link)}");
        }
    }

    private IEnumerable<(ObjectKey Key, string Subject)> ExpectedRoutes(Scope scope)
    {
        foreach (var route in RoutesIn(scope))
        {
            yield return (ObjectKey.Route(scope, RouteSource.KeyOf(route)), "route " + route + In(scope));
        }
    }

    private IEnumerable<(ObjectKey Key, string Subject)> ExpectedSysctls(Scope scope)
    {
        foreach (var sysctl in SysctlsIn(scope))
        {
            var key = Sysctl.FormatKey(Sysctl.NormalizeKey(sysctl.Key));
            yield return (ObjectKey.Sysctl(scope, key), $"sysctl {key}={sysctl.Value} in {scope}");
        }
    }

    /// <summary>The lines for one source's pass: an operation per line, then <c>=</c> for every expected object no
    /// operation touched.</summary>
    private IEnumerable<ChangeLine> LinesOf(Stage stage, Scope scope, Plan plan, IReadOnlyList<Operation> done, Session session)
    {
        foreach (var op in done)
        {
            yield return LineOf(op);
        }

        // The keys the plan touches, in a set only for a plan long enough to need one: most of a thousand namespaces'
        // plans hold one or two operations, or none (a no-op).
        var touched = plan.Count > LinearKeys ? plan.Select(op => op.Key).ToHashSet() : null;
        foreach (var (key, subject) in Expected(stage, scope))
        {
            // A WireGuard device that is made whole brings its peers: they are part of its line, not in sync.
            var withDevice = key.Kind == ObjectKind.WireGuardPeer && Touches(plan, touched, new ObjectKey(ObjectKind.WireGuardDevice, scope, key.Parent!));
            if (!Touches(plan, touched, key) && !withDevice && !session.Planned(stage, scope, key))
            {
                yield return new ChangeLine(ChangeKind.InSync, subject, scope.Name, null);
            }
        }
    }

    /// <summary>Plans up to this long are searched for a key instead of put in a set.</summary>
    private const int LinearKeys = 8;

    private static bool Touches(Plan plan, HashSet<ObjectKey>? touched, ObjectKey key)
    {
        if (touched is not null)
        {
            return touched.Contains(key);
        }

        foreach (var op in plan)
        {
            if (op.Key.Equals(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The line for an operation, made from its key (and, for a link it creates or a route, from what it
    /// carries): <c>+ veth blue/veth0 ↔ red/veth1</c>, <c>~ address 10.0.0.1/24 on blue/veth0 (…)</c>.</summary>
    private ChangeLine LineOf(Operation op)
    {
        var kind = op.Conflict ? ChangeKind.Conflict : op.Kind switch
        {
            OperationKind.Create => ChangeKind.Create,
            OperationKind.Delete => ChangeKind.Delete,
            _ => ChangeKind.Change,
        };
        var key = op.Key;
        var scope = key.Scope;
        var subject = op switch
        {
            LinkOperation { Kind: OperationKind.Create, Link: { } link } => Describe(link, scope),
            LinkOperation when key.Kind == ObjectKind.LinkPeer => "peer of link " + scope.Qualify(key.Name),
            LinkOperation => "link " + scope.Qualify(key.Name),
            AddressOperation => $"address {key.Name} on {scope.Qualify(key.Parent!)}",
            RouteOperation { Route: { } r } => "route " + r + In(scope),
            NftablesOperation { Table: not null } => NatSubject(scope),
            _ => DescribeWireGuard(op) ?? op.Target + In(scope),
        };
        var reason = op.Kind == OperationKind.Create && Same(op.Reason, "missing") ? null : op.Reason;
        return new ChangeLine(kind, subject, scope.Name, reason);
    }

    /// <summary>Where an object is, after its name: nothing for the host, <c> in blue</c> for a namespace.</summary>
    private static string In(Scope scope) => scope.IsHost ? string.Empty : " in " + scope.Name;

    private static string Describe(TopologyLink link, Scope scope) => link.Kind switch
    {
        TopologyLinkKind.Veth => $"veth {scope.Qualify(link.Name)} ↔ {PeerScope(link).Qualify(link.Peer!.Name)}",
        TopologyLinkKind.Vxlan when UnderlayScope(link) is { } underlay => $"vxlan {scope.Qualify(link.Name)} (VNI {link.Vni}, tunnel in {(underlay.IsHost ? "the host" : underlay.Name)})",
        TopologyLinkKind.Vxlan => $"vxlan {scope.Qualify(link.Name)} (VNI {link.Vni})",
        TopologyLinkKind.Macvlan => $"macvlan {scope.Qualify(link.Name)} on {link.Parent}",
        TopologyLinkKind.WireGuard => $"wireguard {scope.Qualify(link.Name)}",
        _ => $"bridge {scope.Qualify(link.Name)}",
    };

    private string Describe(DesiredLink link, Scope scope) =>
        _linksByScope[scope].FirstOrDefault(l => Same(l.Name, link.Name)) is { } t ? Describe(t, scope) : "link " + scope.Qualify(link.Name);

    private List<(string Link, IPPrefix Address)> AddressesIn(Scope scope) =>
        _addressesByScope.TryGetValue(scope, out var list) ? list : [];

    private IEnumerable<DesiredRoute> RoutesIn(Scope scope) =>
        _routesByScope[scope].Select(r => new DesiredRoute
        {
            Destination = r.To,
            Gateway = r.Via,
            Device = r.Dev,
            Metric = r.Metric,
            Table = r.Table ?? Route.MainTable,
            OnLink = r.OnLink,
        });

    private IReadOnlyList<TopologyMasquerade> NatIn(Scope scope) =>
        _scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Nat : [];

    /// <summary>A namespace's NAT as people read it: <c>nat in blue: masquerade 10.0.0.0/24 out eth0</c>.</summary>
    private string NatSubject(Scope scope) =>
        $"nat in {scope}: " + string.Join(", ", NatIn(scope).Select(m => $"masquerade {m.Source} out {m.Out}"));

    private IEnumerable<DesiredSysctl> SysctlsIn(Scope scope) => SysctlListIn(scope).Select(kv => new DesiredSysctl(kv.Key, kv.Value));

    private IReadOnlyList<KeyValuePair<string, string>> SysctlListIn(Scope scope) =>
        _scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Sysctls : [];
}
