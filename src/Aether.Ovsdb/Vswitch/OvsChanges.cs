using System.Globalization;

namespace Aether.Ovsdb;

/// <summary>
/// Changes to the Open_vSwitch database made by one owner, to be carried out in one transaction
/// (<see cref="OpenVSwitchDatabase.ApplyAsync"/>). New rows carry the owner's mark; each change to an existing row is
/// preceded by a check (an OVSDB <c>wait</c> with no timeout) that the row still carries the mark and is still where
/// it was read, so a row someone else took over, or moved, since it was observed fails the whole transaction with
/// the check's description instead of being changed.
/// </summary>
public sealed class OvsChanges
{
    private const string Table = OpenVSwitchDatabase.DatabaseName;
    private static readonly OvsdbRow[] NoRows = [];
    private readonly OvsdbValue _mark;
    private int _names;

    /// <summary>Changes by <paramref name="owner"/>.</summary>
    /// <exception cref="ArgumentException">The owner cannot be a mark.</exception>
    public OvsChanges(string owner)
    {
        OpenVSwitchDatabase.ValidateOwner(owner);
        Owner = owner;
        _mark = OvsdbValue.StringMap(OpenVSwitchDatabase.OwnerKey, owner);
        Transaction = new OvsdbTransaction(Table);
    }

    /// <summary>The owner.</summary>
    public string Owner { get; }

    /// <summary>The transaction the changes are written into (more operations may be added to it).</summary>
    public OvsdbTransaction Transaction { get; }

    /// <summary>The number of operations written.</summary>
    public int Count => Transaction.Count;

    /// <summary>Creates bridge <paramref name="name"/> as <c>ovs-vsctl add-br</c> does (with its internal port and
    /// interface of the same name) and adds it to the root row's <c>bridges</c>; everything carries the mark.</summary>
    public OvsChanges CreateBridge(string name, string datapathType = OpenVSwitchDatabase.NetdevDatapath)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(datapathType);
        var (iface, port, bridge) = (NextName("iface"), NextName("port"), NextName("bridge"));
        Transaction.Wait(
            "Open_vSwitch", [], [], NoRows, equal: false,
            description: "check that the Open_vSwitch table has its root row (the database is initialized: ovs-vsctl init)");
        Transaction.Insert("Interface", new OvsdbRow { ["name"] = OvsdbValue.Of(name), ["type"] = OvsdbValue.Of("internal"), ["external_ids"] = _mark }, iface, $"insert Interface {name}");
        Transaction.Insert("Port", new OvsdbRow { ["name"] = OvsdbValue.Of(name), ["interfaces"] = OvsdbValue.NamedUuid(iface), ["external_ids"] = _mark }, port, $"insert Port {name}");
        Transaction.Insert(
            "Bridge",
            new OvsdbRow { ["name"] = OvsdbValue.Of(name), ["datapath_type"] = OvsdbValue.Of(datapathType), ["ports"] = OvsdbValue.NamedUuid(port), ["external_ids"] = _mark },
            bridge,
            $"insert Bridge {name}");
        Transaction.Mutate("Open_vSwitch", [], [OvsdbMutation.Insert("bridges", OvsdbValue.NamedUuid(bridge))], $"add bridge {name} to Open_vSwitch");
        return this;
    }

    /// <summary>Sets our bridge's <c>datapath_type</c>.</summary>
    public OvsChanges SetDatapathType(OvsBridge bridge, string datapathType)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(datapathType);
        CheckOurs("Bridge", bridge.Uuid, $"bridge {bridge.Name}");
        Transaction.Update("Bridge", [OvsdbCondition.Row(bridge.Uuid)], new OvsdbRow { ["datapath_type"] = OvsdbValue.Of(datapathType) }, $"set datapath_type of bridge {bridge.Name}");
        return this;
    }

    /// <summary>Adds port <paramref name="port"/> (an interface of the same name, a system device) with VLAN
    /// <paramref name="tag"/> to our bridge called <paramref name="bridge"/> (which may be created earlier in the
    /// same changes), trunking <paramref name="trunks"/> (null or empty: none set, so all when untagged).</summary>
    public OvsChanges AddPort(string bridge, string port, int? tag, IReadOnlyCollection<int>? trunks = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bridge);
        ArgumentException.ThrowIfNullOrEmpty(port);
        ValidateTag(tag);
        ValidateTrunks(trunks);
        var (iface, row) = (NextName("iface"), NextName("port"));
        CheckBridgeOurs(bridge);
        Transaction.Insert("Interface", new OvsdbRow { ["name"] = OvsdbValue.Of(port), ["external_ids"] = _mark }, iface, $"insert Interface {port}");
        Transaction.Insert(
            "Port",
            new OvsdbRow { ["name"] = OvsdbValue.Of(port), ["interfaces"] = OvsdbValue.NamedUuid(iface), ["tag"] = OvsdbValue.OptionalInteger(tag), ["trunks"] = TrunksValue(trunks), ["external_ids"] = _mark },
            row,
            $"insert Port {port}");
        Transaction.Mutate("Bridge", [OvsdbCondition.Equal("name", OvsdbValue.Of(bridge))], [OvsdbMutation.Insert("ports", OvsdbValue.NamedUuid(row))], $"add port {port} to bridge {bridge}");
        return this;
    }

    /// <summary>Sets our port's VLAN tag (null: none).</summary>
    public OvsChanges SetTag(OvsPort port, int? tag)
    {
        ArgumentNullException.ThrowIfNull(port);
        ValidateTag(tag);
        CheckOurs("Port", port.Uuid, $"port {port.Name}");
        Transaction.Update("Port", [OvsdbCondition.Row(port.Uuid)], new OvsdbRow { ["tag"] = OvsdbValue.OptionalInteger(tag) }, $"set tag of port {port.Name} to {Show(tag)}");
        return this;
    }

    /// <summary>Sets our port's trunked VLANs (empty: none set, so all when untagged), and bumps the root row's
    /// <c>next_cfg</c> so that ovs-vswitchd applies them.</summary>
    public OvsChanges SetTrunks(OvsPort port, IReadOnlyCollection<int> trunks)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(trunks);
        ValidateTrunks(trunks);
        CheckOurs("Port", port.Uuid, $"port {port.Name}");
        Transaction.Update("Port", [OvsdbCondition.Row(port.Uuid)], new OvsdbRow { ["trunks"] = TrunksValue(trunks) }, $"set trunks of port {port.Name} to [{ShowTrunks(trunks)}]");

        // ovs-vswitchd is not woken by a change of trunks alone (its IDL omits the alert for that column): bump
        // next_cfg, as ovs-vsctl does with every change, so that it reconfigures and reads them.
        Transaction.Mutate("Open_vSwitch", [], [OvsdbMutation.Add("next_cfg", 1)], "bump next_cfg so that ovs-vswitchd reconfigures");
        return this;
    }

    /// <summary>Moves our port from <paramref name="from"/> (any bridge) to our bridge called
    /// <paramref name="toBridge"/>, and sets its tag: the same row, so its mark and interfaces go with it.</summary>
    public OvsChanges MovePort(OvsPort port, OvsBridge from, string toBridge, int? tag)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentException.ThrowIfNullOrEmpty(toBridge);
        ValidateTag(tag);
        CheckOurs("Port", port.Uuid, $"port {port.Name}");
        CheckOnBridge(port, from);
        CheckBridgeOurs(toBridge);
        var row = OvsdbValue.Set(OvsdbValue.Uuid(port.Uuid));
        Transaction.Mutate("Bridge", [OvsdbCondition.Row(from.Uuid)], [OvsdbMutation.Delete("ports", row)], $"take port {port.Name} out of bridge {from.Name}");
        Transaction.Mutate("Bridge", [OvsdbCondition.Equal("name", OvsdbValue.Of(toBridge))], [OvsdbMutation.Insert("ports", row)], $"add port {port.Name} to bridge {toBridge}");
        Transaction.Update("Port", [OvsdbCondition.Row(port.Uuid)], new OvsdbRow { ["tag"] = OvsdbValue.OptionalInteger(tag) }, $"set tag of port {port.Name} to {Show(tag)}");
        return this;
    }

    /// <summary>Deletes our port: takes it out of <paramref name="from"/>'s <c>ports</c>, and the database drops the
    /// unreferenced Port row and its interfaces.</summary>
    public OvsChanges DeletePort(OvsPort port, OvsBridge from)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(from);
        CheckOurs("Port", port.Uuid, $"port {port.Name}");
        CheckOnBridge(port, from);
        Transaction.Mutate("Bridge", [OvsdbCondition.Row(from.Uuid)], [OvsdbMutation.Delete("ports", OvsdbValue.Set(OvsdbValue.Uuid(port.Uuid)))], $"take port {port.Name} out of bridge {from.Name}");
        return this;
    }

    /// <summary>Takes a port of someone else's out of <paramref name="from"/>'s <c>ports</c> (the database drops the
    /// row): only for a port that holds a device of ours (a lab's veth end), which Aether takes back. The transaction
    /// checks the port is still on that bridge.</summary>
    public OvsChanges ReclaimPort(OvsPort port, OvsBridge from)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(from);
        CheckOnBridge(port, from);
        Transaction.Mutate("Bridge", [OvsdbCondition.Row(from.Uuid)], [OvsdbMutation.Delete("ports", OvsdbValue.Set(OvsdbValue.Uuid(port.Uuid)))], $"take port {port.Name} (holding our device) out of bridge {from.Name}");
        return this;
    }

    /// <summary>Deletes our bridge: takes it out of the root row's <c>bridges</c>, and the database drops it with its
    /// ports and interfaces.</summary>
    public OvsChanges DeleteBridge(OvsBridge bridge)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        CheckOurs("Bridge", bridge.Uuid, $"bridge {bridge.Name}");
        Transaction.Mutate("Open_vSwitch", [], [OvsdbMutation.Delete("bridges", OvsdbValue.Set(OvsdbValue.Uuid(bridge.Uuid)))], $"take bridge {bridge.Name} out of Open_vSwitch");
        return this;
    }

    /// <summary>Throws unless <paramref name="tag"/> is null or a VLAN id OVS takes (0 to 4095).</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is not.</exception>
    public static void ValidateTag(int? tag)
    {
        if (tag is < 0 or > 4095)
        {
            throw new ArgumentOutOfRangeException(nameof(tag), tag, "a VLAN tag is 0 to 4095");
        }
    }

    /// <summary>Throws unless every VLAN of <paramref name="trunks"/> (null: none) is one OVS takes (0 to 4095).</summary>
    /// <exception cref="ArgumentOutOfRangeException">One is not.</exception>
    public static void ValidateTrunks(IReadOnlyCollection<int>? trunks)
    {
        foreach (var vlan in trunks ?? [])
        {
            if (vlan is < 0 or > 4095)
            {
                throw new ArgumentOutOfRangeException(nameof(trunks), vlan, "a trunked VLAN is 0 to 4095");
            }
        }
    }

    /// <summary>The VLANs as the text of a list: <c>100,101</c>.</summary>
    public static string ShowTrunks(IEnumerable<int> trunks) => string.Join(",", trunks.Order().Select(t => t.ToString(CultureInfo.InvariantCulture)));

    private static OvsdbValue TrunksValue(IReadOnlyCollection<int>? trunks) =>
        trunks is null or { Count: 0 } ? OvsdbValue.EmptySet : OvsdbValue.Set(trunks.Distinct().Order().Select(t => OvsdbValue.Of(t)));

    private static string Show(int? tag) => tag?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private void CheckOurs(string table, OvsUuid row, string what) =>
        Transaction.Wait(
            table,
            [OvsdbCondition.Row(row), OvsdbCondition.Includes("external_ids", _mark)],
            ["_uuid"],
            NoRows,
            equal: false,
            description: $"check that {what} ({row}) still exists and carries {OpenVSwitchDatabase.OwnerKey}={Owner}");

    private void CheckBridgeOurs(string bridge) =>
        Transaction.Wait(
            "Bridge",
            [OvsdbCondition.Equal("name", OvsdbValue.Of(bridge)), OvsdbCondition.Includes("external_ids", _mark)],
            ["_uuid"],
            NoRows,
            equal: false,
            description: $"check that bridge {bridge} exists and carries {OpenVSwitchDatabase.OwnerKey}={Owner}");

    private void CheckOnBridge(OvsPort port, OvsBridge from) =>
        Transaction.Wait(
            "Bridge",
            [OvsdbCondition.Row(from.Uuid), OvsdbCondition.Includes("ports", OvsdbValue.Set(OvsdbValue.Uuid(port.Uuid)))],
            ["_uuid"],
            NoRows,
            equal: false,
            description: $"check that port {port.Name} is still on bridge {from.Name}");

    private string NextName(string what) => what + (++_names).ToString(CultureInfo.InvariantCulture);
}
