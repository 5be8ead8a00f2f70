using System.Text.Json;
using Aether.Ovsdb.Tests.Infrastructure;

namespace Aether.Ovsdb.Tests;

/// <summary>The client's JSON-RPC against a server played by the test (no ovsdb-server): requests on the wire,
/// replies split across reads or packed into one, errors, echo, notifications, a connection that ends.</summary>
public sealed class ClientProtocolTests : IAsyncLifetime
{
    private FakeOvsdbServer _server = null!;
    private OvsdbClient _client = null!;

    public async Task InitializeAsync() => (_server, _client) = await FakeOvsdbServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_transaction_is_written_as_RFC_7047_says_and_its_reply_split_across_reads_is_matched()
    {
        var tx = new OvsdbTransaction("Open_vSwitch");
        tx.Select("Bridge", [OvsdbCondition.Equal("name", OvsdbValue.Of("br0"))], ["name", "ports"]);
        tx.Insert("Port", new OvsdbRow { ["name"] = OvsdbValue.Of("p1"), ["tag"] = OvsdbValue.OptionalInteger(null) }, "newport");
        tx.Mutate("Bridge", [OvsdbCondition.Row(new OvsUuid(Guid.Parse("00000000-0000-0000-0000-0000000000b1")))], [OvsdbMutation.Insert("ports", OvsdbValue.NamedUuid("newport"))]);
        var pending = _client.TransactAsync(tx);

        var request = await _server.ReceiveAsync();
        Assert.Equal(
            """{"method":"transact","params":["Open_vSwitch",{"op":"select","table":"Bridge","where":[["name","==","br0"]],"columns":["name","ports"]},{"op":"insert","table":"Port","row":{"name":"p1","tag":["set",[]]},"uuid-name":"newport"},{"op":"mutate","table":"Bridge","where":[["_uuid","==",["uuid","00000000-0000-0000-0000-0000000000b1"]]],"mutations":[["ports","insert",["named-uuid","newport"]]]}],"id":1}""",
            request.GetRawText());

        const string reply = """{"id":1,"result":[{"rows":[{"name":"br0","ports":["set",[]]}]},{"uuid":["uuid","3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60"]},{"count":1}],"error":null}""";
        await _server.SendInPiecesAsync(reply, 5, 40, 90);
        var result = await pending;

        Assert.Equal("br0", result.Rows(0)[0].GetProperty("name").GetString());
        Assert.Equal(OvsUuid.Parse("3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60"), result.InsertedUuid(1));
        Assert.Equal(1, result.RowCount(2));
    }

    [Fact]
    public async Task Several_requests_in_flight_get_their_own_replies_even_packed_in_one_read_out_of_order()
    {
        var first = _client.ListDatabasesAsync();
        var firstRequest = await _server.ReceiveAsync();
        var second = _client.CallAsync("get_schema", w => { w.WriteStartArray(); w.WriteStringValue("Open_vSwitch"); w.WriteEndArray(); });
        var secondRequest = await _server.ReceiveAsync();
        Assert.Equal("list_dbs", firstRequest.GetProperty("method").GetString());
        Assert.Equal("get_schema", secondRequest.GetProperty("method").GetString());
        var (id1, id2) = (firstRequest.GetProperty("id").GetInt64(), secondRequest.GetProperty("id").GetInt64());
        Assert.NotEqual(id1, id2);

        await _server.SendAsync($$"""{"id":{{id2}},"result":{"name":"Open_vSwitch","version":"8.3.1"},"error":null} {"id":{{id1}},"result":["Open_vSwitch","_Server"],"error":null}""");

        Assert.Equal(["Open_vSwitch", "_Server"], await first);
        Assert.Equal("8.3.1", (await second).GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_json_rpc_error_reply_carries_the_servers_error_and_details()
    {
        var pending = _client.TransactAsync(new OvsdbTransaction("Nope"));
        var request = await _server.ReceiveAsync();
        await _server.SendAsync($$$"""{"id":{{{request.GetProperty("id").GetInt64()}}},"result":null,"error":{"error":"unknown database","details":"Nope is not a valid database name"}}""");

        var ex = await Assert.ThrowsAsync<OvsdbException>(() => pending);
        Assert.Equal("unknown database", ex.Error);
        Assert.Equal("Nope is not a valid database name", ex.Details);
        Assert.Equal("transact: unknown database: Nope is not a valid database name", ex.Message);
    }

    [Fact]
    public async Task A_failed_operation_names_its_index_and_description_and_the_servers_text()
    {
        var tx = new OvsdbTransaction("Open_vSwitch");
        tx.Select("Bridge", [], ["name"], "select Bridge");
        tx.Wait("Port", [OvsdbCondition.Equal("name", OvsdbValue.Of("p1"))], ["name"], [], equal: false, description: "check that port p1 exists");
        tx.Update("Port", [], new OvsdbRow { ["tag"] = OvsdbValue.Of(5) }, "set tags");
        var pending = _client.TransactAsync(tx);
        var request = await _server.ReceiveAsync();
        await _server.SendAsync($$"""{"id":{{request.GetProperty("id").GetInt64()}},"result":[{"rows":[]},{"error":"timed out"},null],"error":null}""");

        var ex = await Assert.ThrowsAsync<OvsdbException>(() => pending);
        Assert.Equal(("timed out", (string?)null, 1, "check that port p1 exists"), (ex.Error, ex.Details, ex.OperationIndex, ex.Operation));
        Assert.Equal("transact Open_vSwitch: operation 1 (check that port p1 exists): timed out", ex.Message);
    }

    [Fact]
    public async Task A_failed_commit_is_the_extra_result_after_the_operations()
    {
        var tx = new OvsdbTransaction("Open_vSwitch");
        tx.Insert("Port", new OvsdbRow { ["name"] = OvsdbValue.Of("p1") }, description: "insert Port p1");
        var pending = _client.TransactAsync(tx);
        var request = await _server.ReceiveAsync();
        await _server.SendAsync($$"""{"id":{{request.GetProperty("id").GetInt64()}},"result":[{"uuid":["uuid","3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60"]},{"error":"referential integrity violation","details":"Table Port column interfaces row 3a1c8e47 has 0 elements"}],"error":null}""");

        var ex = await Assert.ThrowsAsync<OvsdbException>(() => pending);
        Assert.Equal((1, "commit", "referential integrity violation"), (ex.OperationIndex, ex.Operation, ex.Error));
        Assert.StartsWith("Table Port column interfaces", ex.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_servers_echo_is_answered_with_its_params_and_id()
    {
        await _server.SendAsync("""{"method":"echo","params":["keepalive",{"n":1}],"id":"echo"}""");
        var reply = await _server.ReceiveAsync();
        Assert.Equal("""{"result":["keepalive",{"n":1}],"error":null,"id":"echo"}""", reply.GetRawText());

        // And the client's own echo is a round trip.
        var echo = _client.EchoAsync();
        var request = await _server.ReceiveAsync();
        Assert.Equal("echo", request.GetProperty("method").GetString());
        await _server.SendAsync($$"""{"id":{{request.GetProperty("id").GetInt64()}},"result":["aether"],"error":null}""");
        await echo;
    }

    [Fact]
    public async Task A_request_of_a_method_the_client_does_not_serve_gets_an_error_reply()
    {
        await _server.SendAsync("""{"method":"lock","params":["x"],"id":17}""");
        var reply = await _server.ReceiveAsync();
        Assert.Equal(17, reply.GetProperty("id").GetInt32());
        Assert.Equal("unknown method", reply.GetProperty("error").GetProperty("error").GetString());
    }

    [Fact]
    public async Task Monitor_updates_arrive_on_its_channel_and_disposing_cancels_it()
    {
        var starting = _client.MonitorAsync("Open_vSwitch", [new OvsdbMonitorRequest("Port", ["name", "tag"])]);
        var request = await _server.ReceiveAsync();
        Assert.Equal("monitor", request.GetProperty("method").GetString());
        var monitorId = request.GetProperty("params")[1];
        Assert.Equal("""{"Port":{"columns":["name","tag"],"select":{"initial":true,"insert":true,"delete":true,"modify":true}}}""", request.GetProperty("params")[2].GetRawText());

        // The reply and the first update in one read: the update must not be lost.
        const string uuid = "3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60";
        const string Reply = """{"id":@ID@,"result":{"Port":{"UUID":{"new":{"name":"p1","tag":["set",[]]}}}},"error":null}""";
        const string Update = """{"method":"update","params":[MONITOR,{"Port":{"UUID":{"old":{"tag":["set",[]]},"new":{"name":"p1","tag":7}}}}],"id":null}""";
        await _server.SendAsync(
            Reply.Replace("@ID@", request.GetProperty("id").GetRawText(), StringComparison.Ordinal).Replace("UUID", uuid, StringComparison.Ordinal)
            + Update.Replace("MONITOR", monitorId.GetRawText(), StringComparison.Ordinal).Replace("UUID", uuid, StringComparison.Ordinal));
        var monitor = await starting;
        var initial = Assert.Single(monitor.Initial.Rows);
        Assert.Equal((OvsdbRowChange.Insert, "Port", OvsUuid.Parse(uuid)), (initial.Change, initial.Table, initial.Uuid));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var update = Assert.Single((await monitor.Updates.ReadAsync(timeout.Token)).Rows);
        Assert.Equal(OvsdbRowChange.Modify, update.Change);
        Assert.Equal(7, update.New!.Value.GetProperty("tag").GetInt32());

        // An update for another monitor id goes nowhere.
        await _server.SendAsync("""{"method":"update","params":["other",{"Port":{}}],"id":null}""");

        var disposing = monitor.DisposeAsync().AsTask();
        var cancel = await _server.ReceiveAsync();
        Assert.Equal("monitor_cancel", cancel.GetProperty("method").GetString());
        Assert.Equal(monitorId.GetRawText(), cancel.GetProperty("params")[0].GetRawText());
        await _server.SendAsync($$"""{"id":{{cancel.GetProperty("id").GetInt64()}},"result":{},"error":null}""");
        await disposing;
        Assert.False(monitor.Updates.TryRead(out _));
        await monitor.Updates.Completion;
    }

    [Fact]
    public async Task When_the_server_closes_the_connection_pending_requests_and_monitors_fail_with_why()
    {
        var monitorStarting = _client.MonitorAsync("Open_vSwitch", [new OvsdbMonitorRequest("Bridge")]);
        var monitorRequest = await _server.ReceiveAsync();
        await _server.SendAsync($$"""{"id":{{monitorRequest.GetProperty("id").GetInt64()}},"result":{},"error":null}""");
        var monitor = await monitorStarting;

        var pending = _client.ListDatabasesAsync();
        await _server.ReceiveAsync();
        _server.CloseConnection();

        var ex = await Assert.ThrowsAsync<OvsdbConnectionException>(() => pending);
        Assert.Contains($"ovsdb-server at {_server.SocketPath} closed the connection", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<OvsdbConnectionException>(() => monitor.Updates.Completion);
        await _client.Completion;
        Assert.False(_client.IsConnected);
        await Assert.ThrowsAsync<OvsdbConnectionException>(() => _client.EchoAsync());
    }

    [Fact]
    public async Task Malformed_json_from_the_server_fails_the_pending_request_and_closes()
    {
        var pending = _client.ListDatabasesAsync();
        await _server.ReceiveAsync();
        await _server.SendAsync("{\"id\":1,\"result\":[\"a\" \"b\"]}");

        var ex = await Assert.ThrowsAsync<OvsdbProtocolException>(() => pending);
        Assert.Contains("malformed JSON from the server", ex.Message, StringComparison.Ordinal);
        Assert.False(_client.IsConnected);
    }

    [Fact]
    public async Task A_cancelled_request_lets_its_late_reply_go_and_the_connection_carries_on()
    {
        using var cts = new CancellationTokenSource();
        var pending = _client.ListDatabasesAsync(cts.Token);
        var request = await _server.ReceiveAsync();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await _server.SendAsync($$"""{"id":{{request.GetProperty("id").GetInt64()}},"result":["late"],"error":null}""");

        var next = _client.ListDatabasesAsync();
        var nextRequest = await _server.ReceiveAsync();
        await _server.SendAsync($$"""{"id":{{nextRequest.GetProperty("id").GetInt64()}},"result":["Open_vSwitch"],"error":null}""");
        Assert.Equal(["Open_vSwitch"], await next);
    }

    [Fact]
    public void Values_are_written_in_the_protocols_notation()
    {
        Assert.Equal("""["set",[]]""", OvsdbValue.EmptySet.ToString());
        Assert.Equal("""["set",[1,2]]""", OvsdbValue.Set(OvsdbValue.Of(1), OvsdbValue.Of(2)).ToString());
        Assert.Equal("""["map",[["aether-owner","lab \u00221\u0022"]]]""", OvsdbValue.StringMap("aether-owner", "lab \"1\"").ToString());
        Assert.Equal("""["named-uuid","row_1"]""", OvsdbValue.NamedUuid("row_1").ToString());
        Assert.Equal("true", OvsdbValue.Of(true).ToString());
        Assert.Throws<ArgumentException>(() => OvsdbValue.NamedUuid("1row"));
        Assert.Throws<ArgumentException>(() => OvsdbValue.Set(OvsdbValue.EmptySet));
    }

    [Fact]
    public void Datums_are_read_in_both_set_forms()
    {
        using var doc = JsonDocument.Parse("""[7, ["set",[]], ["set",[3]], ["map",[["a","b"]]], ["uuid","3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60"], "x"]""");
        var v = doc.RootElement;
        Assert.Equal(7, OvsdbDatum.ReadOptionalInteger(v[0]));
        Assert.Null(OvsdbDatum.ReadOptionalInteger(v[1]));
        Assert.Equal(3, OvsdbDatum.ReadOptionalInteger(v[2]));
        Assert.Equal("b", OvsdbDatum.ReadStringMap(v[3])["a"]);
        Assert.Equal(OvsUuid.Parse("3a1c8e47-5d0c-4c3e-9f7e-1b2c3d4e5f60"), Assert.Single(OvsdbDatum.ReadUuidSet(v[4])));
        Assert.Equal("x", OvsdbDatum.ReadOptionalString(v[5]));
        Assert.Throws<OvsdbProtocolException>(() => OvsdbDatum.ReadUuid(v[5]));
    }
}
