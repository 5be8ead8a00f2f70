using System.Diagnostics;
using System.Globalization;
using Aether.Labs.Store.Tests.Infrastructure;

namespace Aether.Labs.Store.Tests;

public abstract partial class LabStoreContract
{
    /// <summary>
    /// Two stores on one database (each with its own connection pool, as two processes would have) save the same new
    /// lab at once, several times over, then two different versions of it at once: the unique constraints hold, no row
    /// is stored twice, and the lab ends as one of the versions, whole.
    /// </summary>
    [Fact]
    public async Task Concurrent_saves_of_one_lab_leave_no_duplicates()
    {
        var (target, first) = await MigratedAsync();
        await using var _ = target;
        await using var __ = first;
        await using var second = OpenStore(target);
        var lab = TestLabs.Chain("aetlab", 40);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).SaveLabAsync(lab, "v1"))));

        Assert.Equal("1", await target.ScalarAsync("SELECT count(*) FROM labs"));
        Assert.Equal([["41", "41"]], await target.QueryAsync("SELECT count(*), count(DISTINCT name) FROM nodes"));
        Assert.Equal([["40", "40"]], await target.QueryAsync("SELECT count(*), count(DISTINCT link_key) FROM link_states"));
        Assert.Equal("40", await target.ScalarAsync("SELECT count(DISTINCT seq) FROM link_states"));

        // Two versions at once: 0..29 + 40..49 against 10..39 (the chain of 50 gives the extra links).
        var longer = TestLabs.Chain("aetlab", 50);
        var a = longer with { Links = [.. longer.Links.Take(30), .. longer.Links.Skip(40)] };
        var b = longer with { Links = [.. longer.Links.Skip(10).Take(30)] };
        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(Task.Run(() => first.SaveLabAsync(a, "a")), Task.Run(() => second.SaveLabAsync(b, "b")), Task.Run(() => first.SaveLabAsync(b, "b")), Task.Run(() => second.SaveLabAsync(a, "a")));

            var definition = await target.ScalarAsync("SELECT definition FROM labs");
            var expected = (definition == "a" ? a : b).Links.Select(l => l.Id.Value).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, (await target.QueryAsync("SELECT link_key FROM link_states")).Select(r => r[0]!).Order(StringComparer.Ordinal));
            Assert.Equal("51", await target.ScalarAsync("SELECT count(DISTINCT name) FROM nodes"));
            Assert.Equal("51", await target.ScalarAsync("SELECT count(*) FROM nodes"));
        }
    }

    /// <summary>The figures in docs/store.md: a 150-link lab saved new, saved again unchanged, and 150 states written,
    /// each the median of 5 runs; the result checked by the oracle.</summary>
    [Fact]
    public async Task Timing_of_a_150_link_lab_and_150_states()
    {
        var (target, store) = await MigratedAsync();
        await using var _ = target;
        await using var __ = store;
        List<double> saveNew = [], saveSame = [], states = [];
        for (var run = 0; run < 5; run++)
        {
            var name = "aetlab" + run.ToString(CultureInfo.InvariantCulture);
            var lab = TestLabs.Chain(name, 150);
            saveNew.Add(await TimeAsync(() => store.SaveLabAsync(lab, "x")));
            saveSame.Add(await TimeAsync(() => store.SaveLabAsync(lab, "x")));
            var links = await store.GetLinksAsync(name);
            var now = DateTimeOffset.UtcNow;
            states.Add(await TimeAsync(() => store.SetLinkStatesAsync(name, [.. links.Select((l, i) => l with { Status = LinkStatus.Up, Vlan = 100 + i, Checked = now })])));
            Assert.Equal([["150", "150", "150"]], await target.QueryAsync($"""
                SELECT count(*), count(DISTINCT vlan_tag), count(checked_at) FROM link_states l JOIN labs b ON b.id = l.lab_id
                WHERE b.name = '{name}' AND l.actual_state = 'up'
                """));
        }

        Output.WriteLine($"{target.Provider}: SaveLabAsync 150 links new {Median(saveNew):F1} ms, unchanged {Median(saveSame):F1} ms; SetLinkStatesAsync 150 states {Median(states):F1} ms (medians of 5; runs: {string.Join(", ", saveNew.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))} / {string.Join(", ", saveSame.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))} / {string.Join(", ", states.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))})");
        Assert.InRange(Median(saveNew), 0, 10_000); // a bound no working store misses, even beside a build
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
