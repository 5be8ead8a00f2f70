using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>What a stage of a scope should hold, by the operation target the sources use, and as people name it.</summary>
    private IEnumerable<(string Target, string Subject)> Expected(int stage, string scope)
    {
        switch (stage)
        {
            case Stages.Links:
                foreach (var link in _linksByScope[scope])
                {
                    yield return ("link " + link.Name, Describe(link, scope));
                }

                break;
            case Stages.Addresses:
                foreach (var (link, address) in AddressesIn(scope))
                {
                    yield return ($"address {address} on {link}", $"address {address} on {Qualify(scope, link)}");
                }

                break;
            case Stages.Routes:
                foreach (var route in RoutesIn(scope))
                {
                    yield return (RouteSource.KeyOf(route), "route " + route + (scope.Length == 0 ? string.Empty : " in " + scope));
                }

                break;
            case Stages.Sysctls:
                foreach (var sysctl in SysctlsIn(scope))
                {
                    var key = Sysctl.FormatKey(Sysctl.NormalizeKey(sysctl.Key));
                    yield return ("sysctl " + key, $"sysctl {key}={sysctl.Value} in {scope}");
                }

                break;
            case Stages.Nftables when NatIn(scope).Count > 0:
                yield return ($"nftables inet {NftablesSource.TablePrefix}{Owner}", NatSubject(scope));
                break;
        }
    }

    /// <summary>The lines for one source's pass: an operation per line, then <c>=</c> for every expected object no
    /// operation touched.</summary>
    private IEnumerable<ChangeLine> LinesOf(int stage, string scope, IReadOnlyList<Operation> plan, IReadOnlyList<Operation> done, Session session)
    {
        foreach (var op in done)
        {
            yield return LineOf(op, scope);
        }

        var touched = plan.Select(op => op.Target).ToHashSet(StringComparer.Ordinal);
        foreach (var (target, subject) in Expected(stage, scope))
        {
            if (!touched.Contains(target) && !session.Planned(stage, scope, target))
            {
                yield return new ChangeLine(ChangeKind.InSync, subject, NsOf(scope), null);
            }
        }
    }

    private ChangeLine LineOf(Operation op, string scope)
    {
        var kind = op.Conflict ? ChangeKind.Conflict : op.Kind switch
        {
            OperationKind.Create => ChangeKind.Create,
            OperationKind.Delete => ChangeKind.Delete,
            _ => ChangeKind.Change,
        };
        var subject = op switch
        {
            LinkOperation { Kind: OperationKind.Create, Link: { } link } => Describe(link, scope),
            LinkOperation l => l.Target.Replace("link ", "link " + (scope.Length == 0 ? string.Empty : scope + "/"), StringComparison.Ordinal),
            AddressOperation a => $"address {a.Address} on {Qualify(scope, a.Link)}",
            RouteOperation { Route: { } r } => "route " + r + (scope.Length == 0 ? string.Empty : " in " + scope),
            NftablesOperation { Table: not null } => NatSubject(scope),
            _ => op.Target + (scope.Length == 0 ? string.Empty : " in " + scope),
        };
        var reason = op.Kind == OperationKind.Create && Same(op.Reason, "missing") ? null : op.Reason;
        return new ChangeLine(kind, subject, NsOf(scope), reason);
    }

    private static string Describe(TopologyLink link, string scope) => link.Kind switch
    {
        TopologyLinkKind.Veth => $"veth {Qualify(scope, link.Name)} ↔ {Qualify(PeerScope(link), link.Peer!.Name)}",
        TopologyLinkKind.Vxlan => $"vxlan {Qualify(scope, link.Name)} (VNI {link.Vni})",
        TopologyLinkKind.Macvlan => $"macvlan {Qualify(scope, link.Name)} on {link.Parent}",
        _ => $"bridge {Qualify(scope, link.Name)}",
    };

    private string Describe(DesiredLink link, string scope) =>
        _linksByScope[scope].FirstOrDefault(l => Same(l.Name, link.Name)) is { } t ? Describe(t, scope) : "link " + Qualify(scope, link.Name);

    private List<(string Link, IPPrefix Address)> AddressesIn(string scope) =>
        _addressesByScope.TryGetValue(scope, out var list) ? list : [];

    private IEnumerable<DesiredRoute> RoutesIn(string scope) =>
        _routesByScope[scope].Select(r => new DesiredRoute
        {
            Destination = r.To,
            Gateway = r.Via,
            Device = r.Dev,
            Metric = r.Metric,
            Table = r.Table ?? Route.MainTable,
            OnLink = r.OnLink,
        });

    private IReadOnlyList<TopologyMasquerade> NatIn(string scope) =>
        _scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Nat : [];

    /// <summary>A namespace's NAT as people read it: <c>nat in blue: masquerade 10.0.0.0/24 out eth0</c>.</summary>
    private string NatSubject(string scope) =>
        $"nat in {scope}: " + string.Join(", ", NatIn(scope).Select(m => $"masquerade {m.Source} out {m.Out}"));

    private IEnumerable<DesiredSysctl> SysctlsIn(string scope) =>
        (_scopeIndex.TryGetValue(scope, out var i) && i > 0 ? _topology.Namespaces[i - 1].Sysctls : []).Select(kv => new DesiredSysctl(kv.Key, kv.Value));
}
