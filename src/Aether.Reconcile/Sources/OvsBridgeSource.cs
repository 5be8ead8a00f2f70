using System.Runtime.CompilerServices;
using Aether.Netlink.Rtnl;
using Aether.Ovsdb;

namespace Aether.Reconcile.Sources;

/// <summary>A port Aether should keep on its Open vSwitch bridge.</summary>
/// <param name="Name">The port's name, which is also its one interface's: an existing network device that
/// ovs-vswitchd can open (the outer end of a lab node's veth).</param>
/// <param name="Tag">Its VLAN tag (0 to 4095), or null for none.</param>
public sealed record DesiredOvsPort(string Name, int? Tag)
{
    /// <summary>Whether the port's device is the caller's own (a lab's marked veth end, proven by the kernel), so that
    /// a port of someone else's holding it, on any bridge, is taken back: that row is taken out of its bridge and ours
    /// made on the desired bridge. Without it such a port is a conflict, left alone.</summary>
    public bool Reclaim { get; init; }

    /// <summary>The VLANs it trunks (a VTEP's port carries the tags of the links crossing it); empty: none set, so
    /// an untagged port carries every VLAN. Compared as a set.</summary>
    public IReadOnlyList<int> Trunks { get; init; } = [];
}

/// <summary>The Open vSwitch bridge Aether should keep, with its ports.</summary>
/// <param name="Name">The bridge's name (with the userspace datapath it is also the name of a tap device: at most
/// 15 bytes).</param>
/// <param name="Ports">Its ports; any other port of ours, on it or elsewhere, is deleted.</param>
public sealed record DesiredOvsBridge(string Name, IReadOnlyList<DesiredOvsPort> Ports)
{
    /// <summary>Its <c>datapath_type</c>: <c>netdev</c> (the userspace datapath) unless set.</summary>
    public string DatapathType { get; init; } = OpenVSwitchDatabase.NetdevDatapath;
}

/// <summary>What an <see cref="OvsOperation"/> changes.</summary>
public enum OvsChange
{
    /// <summary>Create the bridge (with its internal port).</summary>
    CreateBridge,

    /// <summary>Set the bridge's datapath type.</summary>
    SetDatapathType,

    /// <summary>Delete an owned bridge (its ports go with it).</summary>
    DeleteBridge,

    /// <summary>Add a port to the bridge.</summary>
    CreatePort,

    /// <summary>Set a port's VLAN tag.</summary>
    SetTag,

    /// <summary>Set a port's trunked VLANs.</summary>
    SetTrunks,

    /// <summary>Move an owned port from another bridge to this one (and set its tag).</summary>
    MovePort,

    /// <summary>Delete an owned port.</summary>
    DeletePort,

    /// <summary>Take a port of someone else's that holds a device of ours out of its bridge
    /// (<see cref="DesiredOvsPort.Reclaim"/>); ours is created after it.</summary>
    ReclaimPort,
}

/// <summary>An operation on the Open_vSwitch database.</summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Key">The bridge (<c>ovs bridge B</c>) or port (<c>ovs port P on B</c>, B the bridge it is or will be
/// on).</param>
/// <param name="Reason">Why (<c>missing</c>, <c>tag 11, want 10</c>, <c>on bridge x, want B</c>).</param>
/// <param name="Change">What it changes.</param>
public sealed record OvsOperation(OperationKind Kind, ObjectKey Key, string Reason, OvsChange Change)
    : Operation(Kind, Stage.Ovs, Key, Reason)
{
    /// <summary>The bridge as observed: the one changed or deleted, or the one a port is moved or deleted from.</summary>
    public OvsBridge? Bridge { get; init; }

    /// <summary>The port as observed (tag changes, moves, deletes).</summary>
    public OvsPort? Port { get; init; }

    /// <summary>The desired bridge's name (creates, adds, moves).</summary>
    public string? Into { get; init; }

    /// <summary>The desired VLAN tag (port creates, tag changes, moves).</summary>
    public int? Tag { get; init; }

    /// <summary>The desired trunked VLANs (port creates, trunk changes).</summary>
    public IReadOnlyList<int> Trunks { get; init; } = [];

    /// <summary>The desired datapath type (bridge creates and changes).</summary>
    public string? DatapathType { get; init; }
}

/// <summary>
/// One Open vSwitch bridge and its ports, kept over OVSDB (Aether's own client; never <c>ovs-vsctl</c>): the bridge
/// is created with the userspace datapath, each desired port (an existing device) is added with its VLAN tag, a
/// wrong tag is set back, an own port found on another bridge is moved back, own ports no longer desired are
/// deleted, and with no desired bridge every own bridge and port goes. Ownership is the mark
/// <c>external_ids:aether-owner=OWNER</c>: a bridge or port of the desired name without it is a conflict, reported
/// and left alone. Observing is one transaction of selects; hints are the monitor's updates.
/// <para>
/// The source connects when it first needs to, and again after the connection was lost (a restarted
/// ovsdb-server); while ovsdb-server is not running, observing fails with the message that says how to start it.
/// </para>
/// </summary>
public sealed partial class OvsBridgeSource : Source<OvsSwitchState, OvsOperation>, IAsyncDisposable, IDisposable
{
    private readonly OvsdbEndpoint _endpoint;
    private readonly OvsdbClient? _given;
    private readonly SemaphoreSlim _connect = new(1, 1);
    private OpenVSwitchDatabase? _database;

    /// <summary>A source that connects to ovsdb-server at <paramref name="endpoint"/> itself (and reconnects).</summary>
    /// <param name="endpoint">Where ovsdb-server listens.</param>
    /// <param name="owner">The owner's name, written into the mark.</param>
    /// <param name="desired">The bridge wanted, or null for none (every bridge and port of the owner is deleted).</param>
    /// <exception cref="ArgumentException">The owner or the desired bridge is invalid.</exception>
    public OvsBridgeSource(OvsdbEndpoint endpoint, string owner, DesiredOvsBridge? desired)
        : this(owner, desired)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
    }

    /// <summary>A source over a connection the caller owns (not reconnected).</summary>
    /// <exception cref="ArgumentException">The owner or the desired bridge is invalid.</exception>
    public OvsBridgeSource(OvsdbClient client, string owner, DesiredOvsBridge? desired)
        : this(owner, desired)
    {
        ArgumentNullException.ThrowIfNull(client);
        _given = client;
        _endpoint = client.Endpoint;
    }

    /// <summary>A source that can only diff (for tests of the pure diff).</summary>
    internal OvsBridgeSource(string owner, DesiredOvsBridge? desired)
    {
        OpenVSwitchDatabase.ValidateOwner(owner);
        Validate(desired);
        Owner = owner;
        Desired = desired;
        _endpoint = OvsdbEndpoint.Default;
    }

    /// <summary>The owner named by the mark.</summary>
    public string Owner { get; }

    /// <summary>The bridge wanted, or null.</summary>
    public DesiredOvsBridge? Desired { get; }

    /// <inheritdoc/>
    public override string Name => $"ovs bridge {Desired?.Name ?? "(none)"} of {Owner} at {_endpoint}";

    /// <summary>Reads every bridge, port and interface in one transaction. A connection of the source's own that
    /// turns out dead on this request (ovsdb-server restarted, or dropped its clients, since the last pass) is
    /// replaced and the read tried once more.</summary>
    public override async Task<OvsSwitchState> ObserveAsync(CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await database.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OvsdbConnectionException) when (_given is null)
        {
            await database.Client.Completion.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
            return await database.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>Closes the connection the source opened (a given one is the caller's).</summary>
    public async ValueTask DisposeAsync()
    {
        var database = Interlocked.Exchange(ref _database, null);
        if (database is not null && _given is null)
        {
            await database.Client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the connection the source opened.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    protected override string ConflictMessage(OvsOperation conflict)
    {
        ArgumentNullException.ThrowIfNull(conflict);
        return $"{conflict.Target} {conflict.Reason}: not taking it over";
    }

    private static void Validate(DesiredOvsBridge? desired)
    {
        if (desired is null)
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(desired.Ports);
        ArgumentNullException.ThrowIfNull(desired.DatapathType);
        InterfaceName.Validate(desired.Name, "bridge");
        var names = new HashSet<string>(StringComparer.Ordinal) { desired.Name };
        foreach (var port in desired.Ports)
        {
            ArgumentNullException.ThrowIfNull(port);
            InterfaceName.Validate(port.Name, "port");
            if (!names.Add(port.Name))
            {
                throw new ArgumentException(
                    string.Equals(port.Name, desired.Name, StringComparison.Ordinal)
                        ? $"ovs port '{port.Name}' has the bridge's name (that is the bridge's own internal port)"
                        : $"ovs port '{port.Name}' is desired twice",
                    nameof(desired));
            }

            try
            {
                OvsChanges.ValidateTag(port.Tag);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new ArgumentException($"ovs port '{port.Name}': tag {port.Tag}: {ex.Message}", nameof(desired), ex);
            }

            ArgumentNullException.ThrowIfNull(port.Trunks);
            try
            {
                OvsChanges.ValidateTrunks(port.Trunks);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new ArgumentException($"ovs port '{port.Name}': trunks [{OvsChanges.ShowTrunks(port.Trunks)}]: {ex.Message}", nameof(desired), ex);
            }
        }
    }

    /// <summary>The database over the given connection, or over the source's own, (re)connected when it is not up.</summary>
    private async Task<OpenVSwitchDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_given is not null)
        {
            return _database ??= new OpenVSwitchDatabase(_given);
        }

        if (Volatile.Read(ref _database) is { Client.IsConnected: true } up)
        {
            return up;
        }

        await _connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_database is { Client.IsConnected: true } again)
            {
                return again;
            }

            if (_database is { } dead)
            {
                await dead.Client.DisposeAsync().ConfigureAwait(false);
            }

            _database = new OpenVSwitchDatabase(await OvsdbClient.ConnectAsync(_endpoint, cancellationToken).ConfigureAwait(false));
            return _database;
        }
        finally
        {
            _connect.Release();
        }
    }

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var monitor = await database.MonitorAsync(initial: false, cancellationToken).ConfigureAwait(false);
        await using (monitor.ConfigureAwait(false))
        {
            // The monitor is set up over the network, so the loop's first pass may have looked before it was live: a
            // change made in between would wait for the resync. One hint now makes the loop look again.
            yield return monitor;
            await foreach (var update in monitor.Updates.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
    }
}
