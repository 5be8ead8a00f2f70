namespace Aether.Ovsdb;

/// <summary>An <c>Interface</c> row of the Open_vSwitch database: a network device a port is made of.</summary>
/// <param name="Uuid">The row.</param>
/// <param name="Name">The device's name (unique in the database).</param>
/// <param name="Type">Its type: empty for a system device (a veth), <c>internal</c> for a bridge's own port.</param>
/// <param name="OfPort">The OpenFlow port number ovs-vswitchd gave it; -1 when it could not open the device; null
/// until ovs-vswitchd has seen it.</param>
/// <param name="Error">Why ovs-vswitchd could not open the device (<c>could not open network device x (No such
/// device)</c>), or null.</param>
/// <param name="ExternalIds">Its <c>external_ids</c>.</param>
public sealed record OvsInterface(OvsUuid Uuid, string Name, string Type, long? OfPort, string? Error, IReadOnlyDictionary<string, string> ExternalIds);

/// <summary>A <c>Port</c> row: a bridge port, with its VLAN tag and its interfaces.</summary>
/// <param name="Uuid">The row.</param>
/// <param name="Name">Its name (unique in the database).</param>
/// <param name="Tag">Its VLAN tag (an access port), or null (a trunk).</param>
/// <param name="Interfaces">Its interfaces (one, for anything but a bond).</param>
/// <param name="ExternalIds">Its <c>external_ids</c>.</param>
public sealed record OvsPort(OvsUuid Uuid, string Name, int? Tag, IReadOnlyList<OvsInterface> Interfaces, IReadOnlyDictionary<string, string> ExternalIds)
{
    /// <summary>The owner its <c>aether-owner</c> mark names, or null when unmarked.</summary>
    public string? Owner => ExternalIds.GetValueOrDefault(OpenVSwitchDatabase.OwnerKey);

    /// <summary>The names of its interfaces.</summary>
    public IEnumerable<string> InterfaceNames => Interfaces.Select(i => i.Name);

    /// <summary>The VLANs it trunks (<c>trunks</c>), ascending; empty: all of them (when it has no tag).</summary>
    public IReadOnlyList<int> Trunks { get; init; } = [];
}

/// <summary>A <c>Bridge</c> row with its ports.</summary>
/// <param name="Uuid">The row.</param>
/// <param name="Name">Its name (unique; with the netdev datapath, also the name of its tap device).</param>
/// <param name="DatapathType">Its <c>datapath_type</c> (<c>netdev</c>: the userspace datapath; empty: the system's).</param>
/// <param name="Ports">Its ports (its own internal port, named as the bridge, among them).</param>
/// <param name="ExternalIds">Its <c>external_ids</c>.</param>
public sealed record OvsBridge(OvsUuid Uuid, string Name, string DatapathType, IReadOnlyList<OvsPort> Ports, IReadOnlyDictionary<string, string> ExternalIds)
{
    /// <summary>The owner its <c>aether-owner</c> mark names, or null when unmarked.</summary>
    public string? Owner => ExternalIds.GetValueOrDefault(OpenVSwitchDatabase.OwnerKey);

    /// <summary>The port called <paramref name="name"/>, or null.</summary>
    public OvsPort? FindPort(string name) => Ports.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
}

/// <summary>Where a port is: its bridge and itself.</summary>
/// <param name="Bridge">The bridge holding it.</param>
/// <param name="Port">The port.</param>
public readonly record struct OvsPortLocation(OvsBridge Bridge, OvsPort Port);

/// <summary>The bridges, ports and interfaces of an Open_vSwitch database, read in one transaction.</summary>
public sealed class OvsSwitchState
{
    private readonly Dictionary<string, OvsBridge> _bridges;
    private readonly Dictionary<string, OvsPortLocation> _ports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OvsPortLocation> _interfaces = new(StringComparer.Ordinal);

    /// <summary>A state of <paramref name="bridges"/>.</summary>
    /// <param name="bridges">The bridges.</param>
    /// <param name="initialized">Whether the root <c>Open_vSwitch</c> row exists.</param>
    public OvsSwitchState(IReadOnlyList<OvsBridge> bridges, bool initialized = true)
    {
        ArgumentNullException.ThrowIfNull(bridges);
        Bridges = bridges;
        Initialized = initialized;
        _bridges = bridges.ToDictionary(b => b.Name, StringComparer.Ordinal);
        foreach (var bridge in bridges)
        {
            foreach (var port in bridge.Ports)
            {
                _ports.TryAdd(port.Name, new OvsPortLocation(bridge, port));
                foreach (var iface in port.Interfaces)
                {
                    _interfaces.TryAdd(iface.Name, new OvsPortLocation(bridge, port));
                }
            }
        }
    }

    /// <summary>Every bridge.</summary>
    public IReadOnlyList<OvsBridge> Bridges { get; }

    /// <summary>Whether the database has its root <c>Open_vSwitch</c> row (<c>ovs-vsctl init</c> makes it; bridges
    /// hang off it).</summary>
    public bool Initialized { get; }

    /// <summary>The bridge called <paramref name="name"/>, or null.</summary>
    public OvsBridge? FindBridge(string name) => _bridges.GetValueOrDefault(name);

    /// <summary>The port called <paramref name="name"/> and its bridge, or null.</summary>
    public OvsPortLocation? FindPort(string name) => _ports.TryGetValue(name, out var at) ? at : null;

    /// <summary>The port holding the interface called <paramref name="name"/> and its bridge, or null.</summary>
    public OvsPortLocation? FindInterface(string name) => _interfaces.TryGetValue(name, out var at) ? at : null;
}
