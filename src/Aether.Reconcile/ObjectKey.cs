namespace Aether.Reconcile;

/// <summary>The kinds of object an operation acts on.</summary>
public enum ObjectKind
{
    /// <summary>A network namespace.</summary>
    Namespace,

    /// <summary>A link (<c>link veth0</c>).</summary>
    Link,

    /// <summary>The peer end of a veth, acted on for its partner (<c>peer of link veth0</c>).</summary>
    LinkPeer,

    /// <summary>An address on a link (<c>address 10.0.0.1/24 on eth0</c>).</summary>
    Address,

    /// <summary>A route, named by its identity (<c>route 254 0.0.0.0/0 metric 0</c>).</summary>
    Route,

    /// <summary>A sysctl (<c>sysctl net.ipv4.ip_forward</c>).</summary>
    Sysctl,

    /// <summary>An nftables table (<c>nftables inet aether-lab</c>).</summary>
    NftablesTable,

    /// <summary>A WireGuard device (<c>wireguard wg0</c>).</summary>
    WireGuardDevice,

    /// <summary>A peer of a WireGuard device (<c>peer AbCdEfGh… on wg0</c>).</summary>
    WireGuardPeer,

    /// <summary>An Open vSwitch bridge, a row of the Open_vSwitch database (<c>ovs bridge aet-lab</c>).</summary>
    OvsBridge,

    /// <summary>A port of an Open vSwitch bridge (<c>ovs port vh1 on aet-lab</c>).</summary>
    OvsPort,
}

/// <summary>
/// Which object an operation acts on: its kind, its name (and, for objects that belong to another, that one's name),
/// in a scope. Keys are compared by value, so a controller finds "the operation on address X of link Y in blue" by
/// key, and makes what people read from the parts instead of editing strings.
/// </summary>
/// <param name="Kind">The kind of object.</param>
/// <param name="Scope">Where it lives.</param>
/// <param name="Name">Its name: a link's name, an address's prefix, a sysctl's key (dotted), an nftables table's
/// <c>FAMILY NAME</c>, a WireGuard peer's short key; for a route, its identity <c>route TABLE DEST metric M</c>
/// (also its record key).</param>
/// <param name="Parent">The object it belongs to: the link of an address, the device of a WireGuard peer; else null.</param>
public readonly record struct ObjectKey(ObjectKind Kind, Scope Scope, string Name, string? Parent = null)
{
    /// <summary>A link.</summary>
    public static ObjectKey Link(Scope scope, string name) => new(ObjectKind.Link, scope, name);

    /// <summary>The peer end of veth <paramref name="link"/>.</summary>
    public static ObjectKey LinkPeer(Scope scope, string link) => new(ObjectKind.LinkPeer, scope, link);

    /// <summary>An address on a link.</summary>
    public static ObjectKey Address(Scope scope, string link, string prefix) => new(ObjectKind.Address, scope, prefix, link);

    /// <summary>A route by its identity (<c>route 254 0.0.0.0/0 metric 0</c>).</summary>
    public static ObjectKey Route(Scope scope, string identity) => new(ObjectKind.Route, scope, identity);

    /// <summary>A sysctl by its dotted key.</summary>
    public static ObjectKey Sysctl(Scope scope, string key) => new(ObjectKind.Sysctl, scope, key);

    /// <summary>An Open vSwitch bridge.</summary>
    public static ObjectKey OvsBridge(Scope scope, string bridge) => new(ObjectKind.OvsBridge, scope, bridge);

    /// <summary>A port of Open vSwitch bridge <paramref name="bridge"/>.</summary>
    public static ObjectKey OvsPort(Scope scope, string bridge, string port) => new(ObjectKind.OvsPort, scope, port, bridge);

    /// <summary>A namespace.</summary>
    public static ObjectKey Namespace(string name) => new(ObjectKind.Namespace, Scope.Namespace(name), name);

    /// <summary>The object as its source names it, without its scope: <c>link veth0</c>, <c>peer of link veth0</c>,
    /// <c>address 10.0.0.1/24 on eth0</c>, <c>route 254 0.0.0.0/0 metric 0</c>, <c>sysctl net.ipv4.ip_forward</c>,
    /// <c>nftables inet aether-lab</c>, <c>wireguard wg0</c>, <c>peer AbCdEfGh… on wg0</c>,
    /// <c>ovs bridge aet-lab</c>, <c>ovs port vh1 on aet-lab</c>, <c>namespace blue</c>.</summary>
    public override string ToString() => Kind switch
    {
        ObjectKind.Link => "link " + Name,
        ObjectKind.LinkPeer => "peer of link " + Name,
        ObjectKind.Address => "address " + Name + " on " + Parent,
        ObjectKind.Route => Name,
        ObjectKind.Sysctl => "sysctl " + Name,
        ObjectKind.NftablesTable => "nftables " + Name,
        ObjectKind.WireGuardDevice => "wireguard " + Name,
        ObjectKind.WireGuardPeer => "peer " + Name + " on " + Parent,
        ObjectKind.OvsBridge => "ovs bridge " + Name,
        ObjectKind.OvsPort => "ovs port " + Name + " on " + Parent,
        _ => "namespace " + Name,
    };
}
