using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    [Fact]
    public async Task Link_states_round_trip_with_error_text_vlan_and_check_time()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        await store.SaveLabAsync(TestLabs.Small("aetlab"), "x");
        var links = await store.GetLinksAsync("aetlab");
        var checkedAt = new DateTimeOffset(2025, 6, 7, 8, 9, 10, 123, 456, TimeSpan.FromHours(2)); // not UTC, to the µs
        const string Error = "create veth aetr1-1: EEXIST (File exists); VLAN mismatch: source=100, target='200' — ünïcode";

        await store.SetLinkStatesAsync("aetlab",
        [
            links[0] with { Status = LinkStatus.Error, Error = Error, Vlan = 4094, Checked = checkedAt },
            links[1] with { Status = LinkStatus.Down },
            new LinkState(LinkId.Of(TestLabs.End("r9", "eth1"), TestLabs.End("r8", "eth1")), TestLabs.End("r9", "eth1"), TestLabs.End("r8", "eth1"), LinkStatus.Up), // not stored: skipped
        ]);

        Assert.Equal(
            [["r1:eth1-r2:eth1", "error", Error, "4094"], ["r1:eth2-r3:eth1", "down", null, null]],
            await target.QueryAsync("SELECT link_key, actual_state, error_message, vlan_tag FROM link_states ORDER BY link_key"));
        var oracleChecked = await target.ScalarAsync(target.Provider == LabStoreProvider.Sqlite
            ? "SELECT checked_at FROM link_states WHERE link_key = 'r1:eth1-r2:eth1'"
            : "SELECT to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM link_states WHERE link_key = 'r1:eth1-r2:eth1'");
        Assert.StartsWith("2025-06-07 06:09:10.123456", oracleChecked, StringComparison.Ordinal);
        Assert.Equal("2", await target.ScalarAsync("SELECT count(*) FROM link_states"));

        var read = await store.GetLinksAsync("aetlab");
        Assert.Equal((LinkStatus.Error, Error, 4094, checkedAt), (read[0].Status, read[0].Error, read[0].Vlan, read[0].Checked));
        Assert.Equal((LinkStatus.Down, null, null, null), (read[1].Status, read[1].Error, read[1].Vlan, read[1].Checked));

        // Every status survives the trip, and clearing the error clears it.
        foreach (var status in Enum.GetValues<LinkStatus>())
        {
            await store.SetLinkStatesAsync("aetlab", [links[0] with { Status = status }]);
            Assert.Equal(status, (await store.GetLinksAsync("aetlab"))[0].Status);
        }

        Assert.Equal([[null, null, null]], await target.QueryAsync("SELECT error_message, vlan_tag, checked_at FROM link_states WHERE link_key = 'r1:eth1-r2:eth1'"));
    }

    [Fact]
    public async Task States_of_an_unknown_lab_are_skipped()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        var link = TestLabs.Small("aetlab").Links[0];

        await store.SetLinkStatesAsync("aetnone", [new LinkState(link.Id, link.A, link.B, LinkStatus.Up)]);

        Assert.Equal("0", await target.ScalarAsync("SELECT count(*) FROM link_states"));
    }
}
