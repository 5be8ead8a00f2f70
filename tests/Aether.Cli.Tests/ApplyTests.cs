using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aether.Cli.Tests;

/// <summary><c>aether apply</c>, <c>diff</c> and <c>destroy</c> against the kernel, checked with <c>ip -j</c>.</summary>
public sealed class ApplyTests : CliTest
{
    [Fact]
    public async Task The_aether_ctl_case_from_empty_then_again_changes_nothing()
    {
        var first = await AetherAsync("apply");
        Assert.True(first.Code == 0, first.ToString());
        Assert.Contains($"+ namespace {Ns}\n", first.Stdout, StringComparison.Ordinal);
        Assert.Contains($"+ veth {HostEnd} ↔ {Ns}/{Peer}\n", first.Stdout, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^applied: 3 created, 0 changed, 0 deleted, 0 in sync in \d+ ms$", RegexOptions.Multiline), first.Stdout);
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(null, HostEnd)));
        Assert.Contains("UP", Ip.Flags(await Ip.RequireLinkAsync(Ns, Peer)));
        Assert.Equal("aether:" + Box.Token, Ip.Str(await Ip.RequireLinkAsync(null, HostEnd), "ifalias"));

        var second = await AetherAsync("apply");
        Assert.True(second.Code == 0, second.ToString());
        Assert.Matches(new Regex(@"^in sync: nothing to do \(3 objects, \d+ ms\)$", RegexOptions.Multiline), second.Stdout);
        Assert.DoesNotContain("+ ", second.Stdout, StringComparison.Ordinal);

        var json = await AetherAsync("apply", null, "-o", "json");
        Assert.True(json.Code == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(Box.Token, doc.RootElement.GetProperty("topology").GetString());
        Assert.True(doc.RootElement.GetProperty("inSync").GetBoolean());
        Assert.Equal(0, doc.RootElement.GetProperty("created").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("error").ValueKind);
        Assert.Contains(doc.RootElement.GetProperty("lines").EnumerateArray(), l =>
            l.GetProperty("change").GetString() == "=" && l.GetProperty("object").GetString() == $"veth {HostEnd} ↔ {Ns}/{Peer}");
    }

    [Fact]
    public async Task Diff_exits_3_before_apply_and_0_after()
    {
        var before = await AetherAsync("diff");
        Assert.True(before.Code == 3, before.ToString());
        Assert.Contains($"+ veth {HostEnd} ↔ {Ns}/{Peer}", before.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());

        Assert.Equal(0, (await AetherAsync("apply")).Code);
        var after = await AetherAsync("diff");
        Assert.True(after.Code == 0, after.ToString());
        Assert.Contains("in sync", after.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_prints_the_plan_and_touches_nothing()
    {
        var before = await SnapshotAsync();
        var plan = await AetherAsync("apply", null, "--dry-run");
        Assert.True(plan.Code == 0, plan.ToString());
        Assert.Contains($"+ namespace {Ns}", plan.Stdout, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^plan: 3 to create, 0 to change, 0 to delete, 0 in sync \(\d+ ms\)$", RegexOptions.Multiline), plan.Stdout);
        Assert.Equal(before, await SnapshotAsync());
        Assert.False(Directory.Exists(Path.Combine(Dir, "state", Box.Token)));
    }

    public static TheoryData<string> InvalidCases => new()
    {
        "name over 15 bytes",
        "unknown key",
        "bad CIDR",
        "undefined namespace",
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public async Task Invalid_input_exits_2_naming_the_place_and_touches_nothing(string which)
    {
        var yaml = which switch
        {
            "name over 15 bytes" => CtlYaml().Replace($"name: {HostEnd}", $"name: {HostEnd}waytoolong0", StringComparison.Ordinal),
            "unknown key" => CtlYaml().Replace("    up: true", "    up: true\n    colour: blue", StringComparison.Ordinal),
            "bad CIDR" => CtlYaml().Replace("10.213.0.2/30", "10.213.0.300/30", StringComparison.Ordinal),
            _ => CtlYaml().Replace($"namespace: {Ns},", $"namespace: {Box.Token}zz,", StringComparison.Ordinal),
        };
        Assert.NotEqual(CtlYaml(), yaml);
        var file = Write("bad.yaml", yaml);
        var before = await SnapshotAsync();

        foreach (var command in new[] { "apply", "diff", "apply --dry-run", "destroy" })
        {
            var result = await AetherAsync(command, file);
            Assert.True(result.Code == 2, command + ": " + result);
            Assert.Matches(new Regex("^" + Regex.Escape(file) + @":\d+:\d+: \S", RegexOptions.Multiline), result.Stderr);
            Assert.Equal(string.Empty, result.Stdout);

            // The same as data: one JSON object on stdout naming every problem, still exit 2.
            var asJson = await AetherAsync(command + " -o json", file);
            Assert.True(asJson.Code == 2, command + " -o json: " + asJson);
            using var doc = System.Text.Json.JsonDocument.Parse(asJson.Stdout);
            Assert.Equal(command, doc.RootElement.GetProperty("command").GetString());
            Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
            var first = doc.RootElement.GetProperty("errors")[0];
            Assert.Equal(file, first.GetProperty("file").GetString());
            Assert.True(first.GetProperty("line").GetInt32() > 0 && first.GetProperty("column").GetInt32() > 0, asJson.Stdout);
            Assert.False(string.IsNullOrEmpty(first.GetProperty("message").GetString()));
        }

        Assert.Equal(before, await SnapshotAsync());
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());
    }

    [Fact]
    public async Task A_foreign_veth_end_where_ours_should_be_exits_1_and_nothing_is_touched()
    {
        await Ip.RunAsync("netns", "add", Ns);
        await Ip.RunAsync("link", "add", HostEnd, "type", "veth", "peer", "name", Box.TrackHostLink(Peer));
        var index = (await Ip.RequireLinkAsync(null, HostEnd)).GetProperty("ifindex").GetInt32();
        var before = await SnapshotAsync();

        var result = await AetherAsync("apply");
        Assert.True(result.Code == 1, result.ToString());
        Assert.Contains("! ", result.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("aether: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
        Assert.Equal(index, (await Ip.RequireLinkAsync(null, HostEnd)).GetProperty("ifindex").GetInt32());
        Assert.Equal(["lo"], await Ip.LinkNamesAsync(Ns));

        var diff = await AetherAsync("diff");
        Assert.True(diff.Code == 3, diff.ToString());
    }

    [Fact]
    public async Task Destroy_removes_what_the_topology_owns_and_leaves_a_foreign_link()
    {
        var foreign = Box.TrackHostLink(Box.Name("f"));
        await Ip.RunAsync("link", "add", foreign, "type", "bridge");
        Assert.Equal(0, (await AetherAsync("apply")).Code);

        var gone = await AetherAsync("destroy");
        Assert.True(gone.Code == 0, gone.ToString());
        Assert.Contains($"- namespace {Ns}", gone.Stdout, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^destroyed: \d+ deleted", RegexOptions.Multiline), gone.Stdout);
        Assert.DoesNotContain(Ns, await Ip.NetnsNamesAsync());
        Assert.Null(await Ip.LinkAsync(null, HostEnd));
        Assert.NotNull(await Ip.LinkAsync(null, foreign));

        var again = await AetherAsync("destroy");
        Assert.True(again.Code == 0, again.ToString());
        Assert.NotNull(await Ip.LinkAsync(null, foreign));
    }
}
