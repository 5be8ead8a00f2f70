using System.Text.Json;

namespace Aether.Ovsdb;

/// <summary>
/// Typed access to the <c>Open_vSwitch</c> database: read the bridges with their ports and interfaces, create a
/// bridge (userspace datapath), add a port with a VLAN tag, change a tag, move a port to another bridge, delete a
/// port or a bridge. Whatever is created carries <c>external_ids:aether-owner=OWNER</c>, and every change checks, in
/// the same transaction, that the rows it changes carry the mark: an unmarked row is never changed or deleted (the
/// one exception: taking an own port out of another bridge's <c>ports</c>, which a move and a delete must do).
/// </summary>
public sealed class OpenVSwitchDatabase
{
    /// <summary>The database's name.</summary>
    public const string DatabaseName = "Open_vSwitch";

    /// <summary>The <c>external_ids</c> key of Aether's ownership mark.</summary>
    public const string OwnerKey = "aether-owner";

    /// <summary>The userspace datapath: what works where the Open vSwitch kernel module is absent.</summary>
    public const string NetdevDatapath = "netdev";

    private static readonly string[] BridgeColumns = ["_uuid", "name", "ports", "external_ids", "datapath_type"];
    private static readonly string[] PortColumns = ["_uuid", "name", "tag", "interfaces", "external_ids", "trunks"];
    private static readonly string[] InterfaceColumns = ["_uuid", "name", "type", "ofport", "error", "external_ids"];

    /// <summary>Works over <paramref name="client"/> (not owned).</summary>
    public OpenVSwitchDatabase(OvsdbClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
    }

    /// <summary>The connection.</summary>
    public OvsdbClient Client { get; }

    /// <summary>Whether <paramref name="owner"/> can be an ownership mark: 1 to 128 printable ASCII characters, no
    /// spaces.</summary>
    public static bool IsValidOwner(string? owner, out string? why)
    {
        why = owner switch
        {
            null or "" => "empty",
            { Length: > 128 } => "longer than 128 characters",
            _ when !owner.All(c => c is > ' ' and <= '~') => "only printable ASCII without spaces may be used",
            _ => null,
        };
        return why is null;
    }

    /// <summary>Throws unless <paramref name="owner"/> can be an ownership mark.</summary>
    /// <exception cref="ArgumentException">It cannot.</exception>
    public static void ValidateOwner(string? owner)
    {
        if (!IsValidOwner(owner, out var why))
        {
            throw new ArgumentException($"ovs owner '{owner}': {why}", nameof(owner));
        }
    }

    /// <summary>Reads every bridge with its ports and interfaces: one transaction of four selects.</summary>
    public async Task<OvsSwitchState> ReadAsync(CancellationToken cancellationToken = default)
    {
        var tx = new OvsdbTransaction(DatabaseName);
        var root = tx.Select("Open_vSwitch", [], ["_uuid"], "select Open_vSwitch");
        var bridgesAt = tx.Select("Bridge", [], BridgeColumns, "select Bridge");
        var portsAt = tx.Select("Port", [], PortColumns, "select Port");
        var interfacesAt = tx.Select("Interface", [], InterfaceColumns, "select Interface");
        var result = await Client.TransactAsync(tx, cancellationToken).ConfigureAwait(false);

        var interfaces = result.Rows(interfacesAt).Select(ParseInterface).ToDictionary(i => i.Uuid);
        var ports = result.Rows(portsAt).Select(row => ParsePort(row, interfaces)).ToDictionary(p => p.Uuid);
        var bridges = result.Rows(bridgesAt).Select(row => ParseBridge(row, ports)).OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        return new OvsSwitchState(bridges, result.Rows(root).Count > 0);
    }

    /// <summary>The bridge called <paramref name="name"/> with its ports, or null.</summary>
    public async Task<OvsBridge?> ReadBridgeAsync(string name, CancellationToken cancellationToken = default) =>
        (await ReadAsync(cancellationToken).ConfigureAwait(false)).FindBridge(name);

    /// <summary>Monitors what <see cref="ReadAsync"/> reads (bridges, ports, interfaces: the columns it reads), so
    /// each change made by anyone arrives as an update.</summary>
    public Task<OvsdbMonitor> MonitorAsync(bool initial = false, CancellationToken cancellationToken = default) =>
        Client.MonitorAsync(
            DatabaseName,
            [
                new OvsdbMonitorRequest("Bridge", BridgeColumns[1..]) { Initial = initial },
                new OvsdbMonitorRequest("Port", PortColumns[1..]) { Initial = initial },
                new OvsdbMonitorRequest("Interface", InterfaceColumns[1..]) { Initial = initial },
            ],
            cancellationToken);

    /// <summary>Carries out <paramref name="changes"/> in one transaction: all of them, or none.</summary>
    /// <exception cref="OvsdbException">One failed: a check (a row is not, or no longer, ours or where it was; the
    /// error is <c>timed out</c>, the operation's description says what was checked) or the server's constraints
    /// (a name in use).</exception>
    public async Task ApplyAsync(OvsChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            return;
        }

        await Client.TransactAsync(changes.Transaction, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates bridge <paramref name="name"/> (datapath <paramref name="datapathType"/>, by default the
    /// userspace one) with its internal port, marked, and adds it to the root row's <c>bridges</c>.</summary>
    public Task CreateBridgeAsync(string name, string owner, string datapathType = NetdevDatapath, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).CreateBridge(name, datapathType), cancellationToken);

    /// <summary>Adds port <paramref name="port"/> (an interface of the same name) with VLAN <paramref name="tag"/> to
    /// our bridge <paramref name="bridge"/>.</summary>
    public Task AddPortAsync(string bridge, string port, int? tag, string owner, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).AddPort(bridge, port, tag), cancellationToken);

    /// <summary>Sets our port's VLAN tag (null: none).</summary>
    public Task SetTagAsync(OvsPort port, int? tag, string owner, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).SetTag(port, tag), cancellationToken);

    /// <summary>Moves our port from bridge <paramref name="from"/> to our bridge <paramref name="toBridge"/>, setting
    /// its tag.</summary>
    public Task MovePortAsync(OvsPort port, OvsBridge from, string toBridge, int? tag, string owner, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).MovePort(port, from, toBridge, tag), cancellationToken);

    /// <summary>Deletes our port (and its interfaces) from bridge <paramref name="from"/>.</summary>
    public Task DeletePortAsync(OvsPort port, OvsBridge from, string owner, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).DeletePort(port, from), cancellationToken);

    /// <summary>Deletes our bridge, with its ports.</summary>
    public Task DeleteBridgeAsync(OvsBridge bridge, string owner, CancellationToken cancellationToken = default) =>
        ApplyAsync(new OvsChanges(owner).DeleteBridge(bridge), cancellationToken);

    private static OvsInterface ParseInterface(JsonElement row) => new(
        OvsdbDatum.ReadUuid(OvsdbDatum.Column(row, "_uuid")),
        OvsdbDatum.ReadString(OvsdbDatum.Column(row, "name")),
        OvsdbDatum.ReadString(OvsdbDatum.Column(row, "type")),
        OvsdbDatum.ReadOptionalInteger(OvsdbDatum.Column(row, "ofport")),
        OvsdbDatum.ReadOptionalString(OvsdbDatum.Column(row, "error")),
        OvsdbDatum.ReadStringMap(OvsdbDatum.Column(row, "external_ids")));

    private static OvsPort ParsePort(JsonElement row, Dictionary<OvsUuid, OvsInterface> interfaces)
    {
        var tag = OvsdbDatum.ReadOptionalInteger(OvsdbDatum.Column(row, "tag"));
        var members = OvsdbDatum.ReadUuidSet(OvsdbDatum.Column(row, "interfaces"))
            .Select(u => interfaces.TryGetValue(u, out var i) ? i : throw new OvsdbProtocolException($"port refers to interface {u}, which was not read"))
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .ToList();
        return new OvsPort(
            OvsdbDatum.ReadUuid(OvsdbDatum.Column(row, "_uuid")),
            OvsdbDatum.ReadString(OvsdbDatum.Column(row, "name")),
            tag is long t ? checked((int)t) : null,
            members,
            OvsdbDatum.ReadStringMap(OvsdbDatum.Column(row, "external_ids")))
        {
            Trunks = [.. OvsdbDatum.ReadSet(OvsdbDatum.Column(row, "trunks")).Select(ReadVlan).Order()],
        };
    }

    private static int ReadVlan(JsonElement atom) =>
        atom.ValueKind == JsonValueKind.Number && atom.TryGetInt32(out var vlan)
            ? vlan
            : throw new OvsdbProtocolException($"expected a VLAN id in trunks, got {atom.GetRawText()}");

    private static OvsBridge ParseBridge(JsonElement row, Dictionary<OvsUuid, OvsPort> ports)
    {
        var members = OvsdbDatum.ReadUuidSet(OvsdbDatum.Column(row, "ports"))
            .Select(u => ports.TryGetValue(u, out var p) ? p : throw new OvsdbProtocolException($"bridge refers to port {u}, which was not read"))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        return new OvsBridge(
            OvsdbDatum.ReadUuid(OvsdbDatum.Column(row, "_uuid")),
            OvsdbDatum.ReadString(OvsdbDatum.Column(row, "name")),
            OvsdbDatum.ReadString(OvsdbDatum.Column(row, "datapath_type")),
            members,
            OvsdbDatum.ReadStringMap(OvsdbDatum.Column(row, "external_ids")));
    }
}
