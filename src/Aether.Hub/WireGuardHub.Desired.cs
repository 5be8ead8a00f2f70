using System.Globalization;
using Aether.Netlink;
using Aether.Nftables;
using Aether.WireGuard;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Aether.Reconcile.Sources;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Hub;

/// <summary>Desired state: the sources of every object all networks need, by stage and scope, and the hub's
/// nftables table.</summary>
public sealed partial class WireGuardHub
{
    private AppliedRecord Record(string section)
    {
        if (_records is not null)
        {
            return _records.Section(section);
        }

        if (!_memoryRecords.TryGetValue(section, out var record))
        {
            record = AppliedRecord.InMemory();
            _memoryRecords[section] = record;
        }

        return record;
    }

    private Units CurrentUnits() => _units ??= BuildUnits();

    private void DisposeUnits()
    {
        if (_units is null)
        {
            return;
        }

        foreach (var unit in _units.Sources.Values)
        {
            (unit.Source as IDisposable)?.Dispose();
        }

        _units = null;
    }

    /// <summary>Every object all networks need, as the sources of the host and of each container, by stage and
    /// scope.</summary>
    private Units BuildUnits()
    {
        var owner = _options.Owner;
        var all = _networks.Values.OrderBy(n => n.Index).ToList();
        var attachments = AllAttachments();
        var live = attachments.Where(a => _containers.GetValueOrDefault(a.Container)?.Namespace is not null).ToList();
        var containers = _containers.Values.Where(c => c.Handle is not null).ToList();
        var host = Scope.Host;
        var units = new Dictionary<(Stage Stage, Scope Scope), Unit>
        {
            [(Stage.Links, host)] = new(new LinkSource(_hostHandle, owner, [.. live.Select(a => new DesiredLink(a.HostInterface, new Veth(a.Interface) { PeerNamespace = _containers[a.Container].Namespace }))])
            {
                Scope = host,
                PeerHandles = ContainerHandle,
            }),
            // Not planned before an add (it would read every device): a foreign wgN is looked for by name instead.
            [(Stage.Devices, host)] = new(new WireGuardSource(_hostHandle, _backend, owner, [.. all.Select(Device)]) { Scope = host }, CanConflict: false),
            [(Stage.Sysctls, host)] = new(new SysctlSource(_host, Record("host sysctls"), all.Count > 0 ? [new DesiredSysctl(IpForward, "1")] : [], new SysctlSourceOptions { RestoreOnRelease = true }) { Scope = host }, CanConflict: false),
            [(Stage.Addresses, host)] = new(new AddressSource(_hostHandle, Record("host addresses"), [.. GatewayHolders(live).Select(a => new DesiredAddress(a.HostInterface, new IPPrefix(_networks[a.NetworkId].Gateway, 32)))]) { Scope = host }),
        };
        if (_nft is not null)
        {
            var table = Table(all, attachments);
            units[(Stage.Nftables, host)] = new(new NatTracking(new HubNftablesSource(_nft, table, _nftState, host) { TableName = NftablesSource.TablePrefix + owner }, _nat), CanConflict: false);
        }
        else if (all.Count > 0)
        {
            units[(Stage.Nftables, host)] = new(new NatTracking(new Unavailable("libnftables is not available: " + _nftMissing), _nat), CanConflict: false);
        }

        foreach (var c in containers)
        {
            var mine = live.Where(a => string.Equals(a.Container, c.Reference, StringComparison.Ordinal)).ToList();
            units[(Stage.Addresses, c.Scope)] = new(new AddressSource(c.Handle!, Record($"container {c.Reference} addresses"), [.. mine.Select(a => new DesiredAddress(a.Interface, new IPPrefix(a.Address, 32)))]) { Scope = c.Scope });
        }

        var hostRoutes = live.Select(a => new DesiredRoute { Destination = new IPPrefix(a.Address, 32), Device = a.HostInterface })
            .Concat(all.SelectMany(n => Routed(n).Select(d => new DesiredRoute { Destination = d, Device = n.WgName })));
        units[(Stage.Routes, host)] = new(new RouteSource(_hostHandle, [.. hostRoutes], new RouteSourceOptions { Record = Record("host routes"), OwnsProtocol = false }) { Scope = host });
        foreach (var c in containers)
        {
            var mine = live.Where(a => string.Equals(a.Container, c.Reference, StringComparison.Ordinal)).ToList();
            var routes = mine.SelectMany(a => Routed(_networks[a.NetworkId]).Where(d => d.Family == System.Net.Sockets.AddressFamily.InterNetwork)
                .Select(d => new DesiredRoute { Destination = d, Gateway = _networks[a.NetworkId].Gateway, Device = a.Interface, OnLink = true })).ToList();
            if (mine.Where(a => a.DefaultRoute).MinBy(a => a.Index) is { } first)
            {
                routes.Add(new DesiredRoute { Gateway = _networks[first.NetworkId].Gateway, Device = first.Interface, OnLink = true });
            }

            units[(Stage.Routes, c.Scope)] = new(new RouteSource(c.Handle!, routes, new RouteSourceOptions { Record = Record($"container {c.Reference} routes"), OwnsProtocol = false }) { Scope = c.Scope });
        }

        return new Units([host, .. containers.Select(c => c.Scope)], Timed(units));
    }

    /// <summary>What a network routes into its <c>wgN</c>: its CIDR, then every peer's allowed IPs outside it (no two
    /// the same; the hub refuses allowed IPs that overlap another network's).</summary>
    private static IEnumerable<IPPrefix> Routed(HubNetworkSpec n) =>
        new[] { n.NetworkCidr }.Concat(n.Peers.SelectMany(p => p.AllowedIps).Where(a => !Covers(n.NetworkCidr, a))).Distinct();

    private static bool Covers(IPPrefix outer, IPPrefix inner) =>
        inner.Family == outer.Family && inner.PrefixLength >= outer.PrefixLength && outer.Contains(inner.Network);

    /// <summary>The host ends that carry their network's gateway: the first live one of each network (its own
    /// <c>veth-rootN</c> when it has one). An address lives in one place; the others answer ARP for the gateway all
    /// the same, since it is the host's own address (<c>arp_ignore</c> 0, the kernel's default).</summary>
    private static IEnumerable<Attachment> GatewayHolders(List<Attachment> live) =>
        live.GroupBy(a => a.NetworkId, StringComparer.Ordinal).Select(g => g.First());

    private DesiredWireGuardDevice Device(HubNetworkSpec n) => new(n.WgName, n.PrivateKey)
    {
        ListenPort = n.ListenPort,
        Peers =
        [
            .. n.Peers.Select(p => new DesiredWireGuardPeer(p.PublicKey)
            {
                Endpoint = p.Endpoint,
                AllowedIPs = p.AllowedIps,
                PersistentKeepaliveInterval = p.PersistentKeepalive,
                PresharedKey = p.PresharedKey,
            }),
        ],
    };

    /// <summary>The hub's table: NAT for each container's first network, and no forwarding between networks; null
    /// when there is no network. Each network's rules name only its own sets (<c>nI</c>: its interfaces, <c>vI</c>:
    /// its host veth ends) and the set <c>ifaces</c> (every network's interfaces), so adding or removing a network adds
    /// or deletes its own rules and set elements and leaves the other networks' rules as they are.</summary>
    private NftTable? Table(List<HubNetworkSpec> all, List<Attachment> attachments)
    {
        if (all.Count == 0)
        {
            return null;
        }

        List<string> Veths(HubNetworkSpec n) => [.. attachments.Where(a => string.Equals(a.NetworkId, n.Id, StringComparison.Ordinal)).Select(a => a.HostInterface)];
        string Own(HubNetworkSpec n) => "n" + n.Index.ToString(CultureInfo.InvariantCulture);
        string OwnVeths(HubNetworkSpec n) => "v" + n.Index.ToString(CultureInfo.InvariantCulture);
        var sets = new List<NftSet> { new(AllSet, "ifname", all.SelectMany(n => Veths(n).Prepend(n.WgName))) };
        foreach (var n in all)
        {
            sets.Add(new NftSet(Own(n), "ifname", Veths(n).Prepend(n.WgName)));
            sets.Add(new NftSet(OwnVeths(n), "ifname", Veths(n)));
        }

        var nat = all.Where(HasNat).Select(n => NftRule.FromJson(
            "[" + Match("==", Saddr, Prefix(n.NetworkCidr)) + "," + Match("!=", Meta("oifname"), Str("@" + Own(n))) + """,{"masquerade":null}]""",
            "hub network " + n.Id));
        var forward = new List<NftRule>();
        foreach (var n in all)
        {
            // What comes out of a network's tunnel goes to its containers only (no relaying, no crossing); what comes
            // from its containers goes to no other network's interface.
            forward.Add(NftRule.FromJson("[" + Match("==", Meta("iifname"), Str(n.WgName)) + "," + Match("!=", Meta("oifname"), Str("@" + OwnVeths(n))) + Drop));
            forward.Add(NftRule.FromJson("[" + Match("==", Meta("iifname"), Str("@" + OwnVeths(n))) + "," + Match("==", Meta("oifname"), Str("@" + AllSet)) + "," + Match("!=", Meta("oifname"), Str("@" + Own(n))) + Drop));
        }

        NftChain[] chains =
        [
            NftChain.NatPostrouting(nat),
            new NftChain("forward", forward) { Type = "filter", Hook = "forward", Priority = NftChain.FilterPriority, Policy = "accept" },
        ];
        return new NftTable(NftFamily.Inet, NftablesSource.TablePrefix + _options.Owner, chains, sets);
    }

    private const string AllSet = "ifaces";

    // The statements in libnftables' JSON schema, written the way nft prints them back (so a pass after the first
    // finds the table in sync). Names and addresses here are validated interface names and IPv4 addresses: nothing
    // in them needs escaping.
    private const string Saddr = """{"payload":{"protocol":"ip","field":"saddr"}}""";
    private const string Drop = """,{"drop":null}]""";

    private static string Meta(string key) => "{\"meta\":{\"key\":" + Str(key) + "}}";

    private static string Str(string value) => "\"" + value + "\"";

    private static string Prefix(IPPrefix prefix) =>
        "{\"prefix\":{\"addr\":" + Str(prefix.Network.ToString()) + ",\"len\":" + prefix.PrefixLength.ToString(CultureInfo.InvariantCulture) + "}}";

    private static string Match(string op, string left, string right) => "{\"match\":{\"op\":" + Str(op) + ",\"left\":" + left + ",\"right\":" + right + "}}";
}
