using System.Text.Json;

namespace Aether.Hub.Tests.Integration;

/// <summary>The hub's table changed in place: an add or a remove touches only its own network's rules and set
/// elements (<c>nft -j list table</c> in the hub's namespace is the oracle, handles included), and a table changed by
/// someone else is replaced whole.</summary>
public sealed partial class HubTests
{
    [Fact]
    public async Task Adding_a_network_leaves_the_other_networks_rules_and_handles_alone_and_removing_it_takes_exactly_its_own()
    {
        var hub = await StartAsync(_hostA, "a", new InMemoryHubStore());
        await hub.AddNetworkAsync(Request(a: true, net: 0), default);
        var one = await TableAsync(HostA);
        Assert.Equal(3, one.Rules.Count); // the masquerade, the tunnel's rule and the veths' rule
        var wg0 = Box.Name("a") + "0";
        var wg1 = Box.Name("a") + "1";
        Assert.Equal([wg0, "veth-root0"], one.Sets["n0"]);
        Assert.Equal(["veth-root0"], one.Sets["v0"]);

        await hub.AddNetworkAsync(Request(a: true, net: 1), default);
        var two = await TableAsync(HostA);
        Assert.Equal(one.Handle, two.Handle); // the same table, not a new one
        foreach (var (handle, rule) in one.Rules)
        {
            Assert.True(two.Rules.TryGetValue(handle, out var still), $"rule {handle} ({rule}) is gone after the add");
            Assert.Equal(rule, still);
        }

        var added = two.Rules.Where(r => !one.Rules.ContainsKey(r.Key)).Select(r => r.Value).ToList();
        Assert.Equal(2, added.Count); // network 1 is not the container's first: no masquerade of its own
        Assert.All(added, r => Assert.Contains("@", r, StringComparison.Ordinal));
        Assert.Contains(added, r => r.Contains("\"" + wg1 + "\"", StringComparison.Ordinal) && r.Contains("@v1", StringComparison.Ordinal));
        Assert.Contains(added, r => r.Contains("@v1", StringComparison.Ordinal) && r.Contains("@ifaces", StringComparison.Ordinal) && r.Contains("@n1", StringComparison.Ordinal));
        Assert.DoesNotContain(two.Rules.Values, r => r.Contains("10.202.0.0", StringComparison.Ordinal));
        Assert.Equal([wg0, wg1, "veth-root0", "veth-root1"], two.Sets["ifaces"]);
        Assert.Equal([wg1, "veth-root1"], two.Sets["n1"]);
        Assert.Equal([wg0, "veth-root0"], two.Sets["n0"]);

        // The networks stay apart: container A reaches neither network's other end through the other's gateway.
        Assert.Contains(two.Rules.Values, r => r.Contains("@v0", StringComparison.Ordinal) && r.Contains("@ifaces", StringComparison.Ordinal) && r.Contains("@n0", StringComparison.Ordinal));

        await hub.RemoveNetworkAsync("net-1", default);
        var again = await TableAsync(HostA);
        Assert.Equal(one.Handle, again.Handle);
        Assert.Equal(one.Rules, again.Rules); // exactly network 0's rules, with their handles
        Assert.Equal(one.Sets, again.Sets); // n1 and v1 gone, network 1's names out of ifaces
    }

    [Fact]
    public async Task A_table_changed_by_hand_is_replaced_whole_and_an_empty_hub_has_none()
    {
        var hub = await StartAsync(_hostA, "a", new InMemoryHubStore());
        await hub.AddNetworkAsync(Request(a: true, net: 0), default);
        await hub.AddNetworkAsync(Request(a: true, net: 1), default);
        var before = await TableAsync(HostA);
        var victim = before.Rules.First(r => r.Value.Contains("@v1", StringComparison.Ordinal) && r.Value.Contains("@ifaces", StringComparison.Ordinal));
        var deleted = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "delete", "rule", "inet", "aether-hub", "forward", "handle", victim.Key.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, deleted.Code);
        var elements = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "delete", "element", "inet", "aether-hub", "ifaces", "{ \"veth-root0\" }");
        Assert.Equal(0, elements.Code);

        Assert.Null(await hub.RepairAsync(default));
        var after = await TableAsync(HostA);
        Assert.NotEqual(before.Handle, after.Handle); // a new table: replaced whole
        Assert.Equal(before.Rules.Values.Order(StringComparer.Ordinal), after.Rules.Values.Order(StringComparer.Ordinal));
        Assert.Equal(before.Sets, after.Sets);
        await PingAsync(_cA, "10.202.0.1", expect: true); // its own gateway still answers

        // A pass with nothing changed leaves it as it is.
        Assert.Null(await hub.RepairAsync(default));
        Assert.Equal(after.Handle, (await TableAsync(HostA)).Handle);
        Assert.Equal(after.Rules, (await TableAsync(HostA)).Rules);

        await hub.RemoveNetworkAsync("net-1", default);
        await hub.RemoveNetworkAsync("net-0", default);
        var none = await Ip.ExecAsync("ip", "netns", "exec", HostA, "nft", "-j", "list", "table", "inet", "aether-hub");
        Assert.NotEqual(0, none.Code);
    }

    /// <summary>The hub's table as the kernel lists it: its handle, each rule (by handle: chain and expressions as
    /// JSON) and each set's elements, sorted.</summary>
    private static async Task<ListedTable> TableAsync(string ns)
    {
        var listed = await Ip.ExecAsync("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "aether-hub");
        Assert.True(listed.Code == 0, listed.Stderr);
        using var doc = JsonDocument.Parse(listed.Stdout);
        long table = 0;
        var rules = new SortedDictionary<long, string>();
        var sets = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("table", out var t))
            {
                table = t.GetProperty("handle").GetInt64();
            }
            else if (item.TryGetProperty("rule", out var r))
            {
                rules[r.GetProperty("handle").GetInt64()] = r.GetProperty("chain").GetString() + " " + r.GetProperty("expr").GetRawText();
            }
            else if (item.TryGetProperty("set", out var s))
            {
                sets[s.GetProperty("name").GetString()!] = s.TryGetProperty("elem", out var e) ? [.. e.EnumerateArray().Select(x => x.GetString()!).Order(StringComparer.Ordinal)] : [];
            }
        }

        return new ListedTable(table, rules, sets);
    }

    private sealed record ListedTable(long Handle, SortedDictionary<long, string> Rules, SortedDictionary<string, List<string>> Sets);
}
