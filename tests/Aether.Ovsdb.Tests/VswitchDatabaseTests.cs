using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Ovsdb.Tests.Infrastructure;

namespace Aether.Ovsdb.Tests;

/// <summary>The typed Open_vSwitch operations against a real ovsdb-server and ovs-vswitchd, checked with
/// <c>ovs-vsctl</c> (and <c>ip</c> for the devices ovs-vswitchd made).</summary>
public sealed class VswitchDatabaseTests : OvsTest
{
    [Fact]
    public async Task A_created_bridge_and_port_are_what_ovs_vsctl_shows_marked_and_opened_by_vswitchd()
    {
        var (bridge, port) = (Box.Name("br"), Box.Name("p1"));
        await Ovs.IpAsync("-n", Ovs.Namespace, "link", "add", port, "type", "veth", "peer", "name", Box.Name("q1"));
        await Ovs.IpAsync("-n", Ovs.Namespace, "link", "set", port, "up");

        await Database.CreateBridgeAsync(bridge, Owner);
        await Database.AddPortAsync(bridge, port, 10, Owner);

        Assert.Equal([bridge], await Bridges());
        Assert.Equal("netdev", (await Vsctl("get", "bridge", bridge, "datapath_type")).Trim('"'));
        Assert.Equal([port], await PortsOf(bridge));
        Assert.Equal(10, await TagOf(port));
        Assert.Equal(Owner, await ExternalId("bridge", bridge, "aether-owner"));
        Assert.Equal(Owner, await ExternalId("port", port, "aether-owner"));
        Assert.Equal(Owner, await ExternalId("interface", port, "aether-owner"));
        Assert.Contains(await Vsctl("get", "bridge", bridge, "_uuid"), await Vsctl("get", "Open_vSwitch", ".", "bridges"), StringComparison.Ordinal);

        // ovs-vswitchd took it up: the bridge's tap device exists in its namespace, the port got an OpenFlow number.
        Assert.True(await EventuallyAsync(async () => await Ip.LinkAsync(Ovs.Namespace, bridge) is not null), "no tap device for the bridge");
        Assert.True(await EventuallyAsync(async () => (await Database.ReadBridgeAsync(bridge))!.FindPort(port)!.Interfaces[0].OfPort > 0), "the port got no ofport");
    }

    [Fact]
    public async Task What_ovs_vsctl_made_reads_back_with_names_tags_interfaces_and_external_ids()
    {
        var (bridge, p1, p2) = (Box.Name("br"), Box.Name("p1"), Box.Name("p2"));
        await Vsctl("add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev", "external_ids:team=blue");
        await Vsctl("add-port", bridge, p1, "tag=42", "--", "set", "port", p1, "external_ids:aether-owner=someone");
        await Vsctl("add-port", bridge, p2);

        var read = Assert.IsType<OvsBridge>(await Database.ReadBridgeAsync(bridge));
        Assert.Equal(("netdev", "blue", (string?)null), (read.DatapathType, read.ExternalIds["team"], read.Owner));
        Assert.Equal([bridge, p1, p2], read.Ports.Select(p => p.Name));
        var (internalPort, first, second) = (read.Ports[0], read.Ports[1], read.Ports[2]);
        Assert.Equal("internal", Assert.Single(internalPort.Interfaces).Type);
        Assert.Equal((42, "someone"), (first.Tag, first.Owner));
        Assert.Equal([p1], first.InterfaceNames);
        Assert.Equal(((int?)null, (string?)null), (second.Tag, second.Owner));
        Assert.Equal(await Vsctl("get", "port", p1, "_uuid"), first.Uuid.ToString());

        // A device that does not exist: ovs-vswitchd's own error, as the database holds it.
        Assert.True(await EventuallyAsync(async () => (await Database.ReadBridgeAsync(bridge))!.FindPort(p2)!.Interfaces[0].Error is not null));
        var error = (await Database.ReadBridgeAsync(bridge))!.FindPort(p2)!.Interfaces[0];
        Assert.Equal((-1L, $"could not open network device {p2} (No such device)"), (error.OfPort, error.Error));
    }

    [Fact]
    public async Task Tag_move_and_delete_change_only_our_rows()
    {
        var (ours, other, port) = (Box.Name("br"), Box.Name("bx"), Box.Name("p1"));
        await Database.CreateBridgeAsync(ours, Owner);
        await Database.AddPortAsync(ours, port, 10, Owner);
        await Vsctl("add-br", other, "--", "set", "bridge", other, "datapath_type=netdev");

        var state = await Database.ReadAsync();
        await Database.SetTagAsync(state.FindPort(port)!.Value.Port, 11, Owner);
        Assert.Equal(11, await TagOf(port));
        await Database.SetTagAsync(state.FindPort(port)!.Value.Port, null, Owner);
        Assert.Null(await TagOf(port));

        // Moving keeps the row (its mark and uuid), so it is a move, not a delete and an add.
        var uuid = await Vsctl("get", "port", port, "_uuid");
        await Vsctl("remove", "bridge", ours, "ports", uuid, "--", "add", "bridge", other, "ports", uuid);
        Assert.Equal(other, await Vsctl("port-to-br", port));
        state = await Database.ReadAsync();
        var at = state.FindPort(port)!.Value;
        await Database.MovePortAsync(at.Port, at.Bridge, ours, 12, Owner);
        Assert.Equal((ours, uuid, 12), (await Vsctl("port-to-br", port), await Vsctl("get", "port", port, "_uuid"), await TagOf(port)));
        Assert.Empty(await PortsOf(other));

        state = await Database.ReadAsync();
        await Database.DeletePortAsync(state.FindPort(port)!.Value.Port, state.FindBridge(ours)!, Owner);
        Assert.Empty(await PortsOf(ours));
        Assert.Equal("", await Vsctl("--columns=name", "--bare", "find", "interface", "name=" + port)); // its interface went with it

        await Database.DeleteBridgeAsync((await Database.ReadBridgeAsync(ours))!, Owner);
        Assert.Equal([other], await Bridges());
    }

    [Fact]
    public async Task Changing_an_unmarked_row_fails_the_check_and_changes_nothing()
    {
        var (bridge, port) = (Box.Name("br"), Box.Name("p1"));
        await Vsctl("add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev");
        await Vsctl("add-port", bridge, port, "tag=5");
        var state = await Database.ReadAsync();
        var foreign = state.FindPort(port)!.Value;

        var ex = await Assert.ThrowsAsync<OvsdbException>(() => Database.SetTagAsync(foreign.Port, 6, Owner));
        Assert.Equal("timed out", ex.Error);
        Assert.Equal($"check that port {port} ({foreign.Port.Uuid}) still exists and carries aether-owner={Owner}", ex.Operation);
        Assert.Equal(5, await TagOf(port));

        await Assert.ThrowsAsync<OvsdbException>(() => Database.DeletePortAsync(foreign.Port, foreign.Bridge, Owner));
        await Assert.ThrowsAsync<OvsdbException>(() => Database.DeleteBridgeAsync(foreign.Bridge, Owner));
        var added = await Assert.ThrowsAsync<OvsdbException>(() => Database.AddPortAsync(bridge, Box.Name("p2"), 1, Owner));
        Assert.Equal($"check that bridge {bridge} exists and carries aether-owner={Owner}", added.Operation);
        Assert.Equal([port], await PortsOf(bridge));
        Assert.Equal([bridge], await Bridges());
    }

    [Fact]
    public async Task A_name_in_use_is_the_servers_constraint_violation_with_its_details()
    {
        var (bridge, port) = (Box.Name("br"), Box.Name("p1"));
        await Database.CreateBridgeAsync(bridge, Owner);
        await Database.AddPortAsync(bridge, port, 1, Owner);

        var ex = await Assert.ThrowsAsync<OvsdbException>(() => Database.AddPortAsync(bridge, port, 2, Owner));
        Assert.Equal("constraint violation", ex.Error);
        Assert.Equal("commit", ex.Operation);
        Assert.Contains(port, ex.Details, StringComparison.Ordinal);
        Assert.Equal(1, await TagOf(port));

        var twice = await Assert.ThrowsAsync<OvsdbException>(() => Database.CreateBridgeAsync(bridge, Owner));
        Assert.Equal("constraint violation", twice.Error);
    }

    [Fact]
    public async Task An_ovs_vsctl_change_arrives_on_the_monitor()
    {
        var (bridge, port) = (Box.Name("br"), Box.Name("p1"));
        await Database.CreateBridgeAsync(bridge, Owner);
        await Database.AddPortAsync(bridge, port, 1, Owner);
        await using var monitor = await Database.MonitorAsync();
        Assert.Empty(monitor.Initial.Rows);

        await Vsctl("set", "port", port, "tag=77");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        OvsdbRowUpdate? seen = null;
        while (seen is null)
        {
            var update = await monitor.Updates.ReadAsync(timeout.Token);
            seen = update.Rows.FirstOrDefault(r => r is { Table: "Port", Change: OvsdbRowChange.Modify } && r.New!.Value.GetProperty("name").GetString() == port);
        }

        Assert.Equal(77, seen.New!.Value.GetProperty("tag").GetInt32());
        Assert.Equal(1, seen.Old!.Value.GetProperty("tag").GetInt32());
    }

    [Fact]
    public async Task The_servers_inactivity_probe_is_answered_so_an_idle_connection_stays_up()
    {
        // A listener whose connections ovsdb-server probes after a second of silence, and drops a second later
        // when the probe (an echo request) is not answered.
        var probed = Path.Combine(Ovs.Directory, "probed.sock");
        await Vsctl("--no-wait", "--", "--id=@m", "create", "Manager", $"target=\"punix:{probed}\"", "inactivity_probe=1000", "--", "set", "Open_vSwitch", ".", "manager_options=@m");
        Assert.True(await EventuallyAsync(() => Task.FromResult(Path.Exists(probed))), "ovsdb-server did not open the probed listener");

        // The control: a connection that never answers gets the echo, then is closed.
        var silent = Task.Run(async () =>
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(probed));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var received = new List<byte>();
            var buffer = new byte[4096];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }

            return System.Text.Encoding.UTF8.GetString([.. received]);
        });

        await using var client = await OvsdbClient.ConnectAsync(OvsdbEndpoint.Unix(probed));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Contains("\"method\":\"echo\"", await silent, StringComparison.Ordinal);
        Assert.True(client.IsConnected, $"the client was dropped: {client.CloseReason?.Message}");
        Assert.Contains("Open_vSwitch", await client.ListDatabasesAsync());
    }

    [Fact]
    public async Task An_echo_and_list_dbs_round_trip_on_the_real_server()
    {
        await Client.EchoAsync();
        Assert.Contains("Open_vSwitch", await Client.ListDatabasesAsync());
    }
}
