using System.Text.Json;

namespace Aether.Reconcile.Tests;

public sealed class AppliedRecordStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Sections_are_kept_apart_in_one_file_and_read_back()
    {
        var path = PathOf("sub/records.json");
        var store = AppliedRecordStore.Open(path);
        store.Section("netns blue addresses").Set("address eth0 10.0.0.1/24", new AppliedEntry("10.0.0.1/24"));
        store.Section("netns red addresses").Set("address eth0 10.0.0.1/24", new AppliedEntry("10.0.0.9/24"));
        store.Section("netns red sysctls").Set("sysctl net/ipv4/ip_forward", new AppliedEntry("1", Original: "0"));
        Assert.Same(store.Section("netns red addresses"), store.Section("netns red addresses"));

        var reread = AppliedRecordStore.Open(path);
        Assert.True(reread.Section("netns blue addresses").TryGet("address eth0 10.0.0.1/24", out var blue));
        Assert.Equal("10.0.0.1/24", blue.Value);
        Assert.True(reread.Section("netns red addresses").TryGet("address eth0 10.0.0.1/24", out var red));
        Assert.Equal("10.0.0.9/24", red.Value);
        Assert.True(reread.Section("netns red sysctls").TryGet("sysctl net/ipv4/ip_forward", out var forward));
        Assert.Equal(new AppliedEntry("1", "0"), forward);
        Assert.Equal(0, reread.Section("netns green addresses").Count);
        Assert.Equal(path, reread.Section("netns blue addresses").FilePath);
    }

    [Fact]
    public void Entries_set_with_the_next_write_ride_along_with_it()
    {
        var path = PathOf("records.json");
        var store = AppliedRecordStore.Open(path);
        store.Section("namespaces").Set("namespace a", new AppliedEntry("creating"));
        store.Section("namespaces").SetManyWithNextWrite([KeyValuePair.Create("namespace a", new AppliedEntry("created x/1"))]);
        Assert.True(AppliedRecordStore.Open(path).Section("namespaces").TryGet("namespace a", out var before));
        Assert.Equal("creating", before.Value); // not written on its own
        Assert.Equal("created x/1", store.Section("namespaces").TryGet("namespace a", out var now) ? now.Value : null); // but there

        using (store.Defer())
        {
            store.Section("netns a addresses").Set("address eth0 10.0.0.1/24", new AppliedEntry("10.0.0.1/24"));
        }

        Assert.True(AppliedRecordStore.Open(path).Section("namespaces").TryGet("namespace a", out var after));
        Assert.Equal("created x/1", after.Value);
    }

    [Fact]
    public void A_deferral_writes_once_when_the_last_one_ends()
    {
        var path = PathOf("records.json");
        var store = AppliedRecordStore.Open(path);
        var outer = store.Defer();
        var inner = store.Defer();
        Parallel.For(0, 200, i => store.Section($"netns n{i % 10} addresses").Set($"address eth0 10.0.{i}.1/24", new AppliedEntry($"10.0.{i}.1/24")));
        Assert.False(File.Exists(path));
        inner.Dispose();
        inner.Dispose(); // twice is once
        Assert.False(File.Exists(path));
        outer.Dispose();
        Assert.True(File.Exists(path));

        var reread = AppliedRecordStore.Open(path);
        Assert.Equal(200, Enumerable.Range(0, 10).Sum(i => reread.Section($"netns n{i} addresses").Count));
    }

    [Fact]
    public void Without_a_deferral_every_change_is_written_at_once_and_nothing_unchanged_is_rewritten()
    {
        var path = PathOf("records.json");
        var store = AppliedRecordStore.Open(path);
        var record = store.Section("host routes");
        record.Set("route 254 10.1.0.0/24 metric 0", new AppliedEntry("10.1.0.0/24 via 10.0.0.2"));
        Assert.Equal(1, AppliedRecordStore.Open(path).Section("host routes").Count);
        var written = File.GetLastWriteTimeUtc(path);
        using (store.Defer())
        {
            record.Set("route 254 10.1.0.0/24 metric 0", new AppliedEntry("10.1.0.0/24 via 10.0.0.2")); // the same: no write
        }

        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.True(record.Remove("route 254 10.1.0.0/24 metric 0"));
        Assert.Equal(0, AppliedRecordStore.Open(path).Section("host routes").Count);
    }

    [Fact]
    public void Empty_sections_are_not_written()
    {
        var path = PathOf("records.json");
        var store = AppliedRecordStore.Open(path);
        store.Section("netns a addresses").Set("k", new AppliedEntry("v"));
        store.Section("netns b addresses").Set("k", new AppliedEntry("v"));
        store.Section("netns b addresses").Remove("k");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(["netns a addresses"], json.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Holds_says_whether_a_section_has_entries()
    {
        var path = PathOf("records.json");
        var store = AppliedRecordStore.Open(path);
        Assert.False(store.Holds("netns a routes"));
        var routes = store.Section("netns a routes");
        Assert.False(store.Holds("netns a routes")); // made, but empty
        routes.Set("route 254 10.0.0.0/8 metric 0", new AppliedEntry("via 10.1.1.1"));
        Assert.True(store.Holds("netns a routes"));
        Assert.False(store.Holds("netns a sysctls"));

        var reread = AppliedRecordStore.Open(path);
        Assert.True(reread.Holds("netns a routes"));
        Assert.True(reread.Section("netns a routes").Remove("route 254 10.0.0.0/8 metric 0"));
        Assert.False(reread.Holds("netns a routes"));
        Assert.False(AppliedRecordStore.Open(path).Holds("netns a routes"));
    }

    [Fact]
    public void A_file_that_is_not_a_store_is_refused_with_its_path()
    {
        var path = PathOf("records.json");
        File.WriteAllText(path, "[1, 2]");
        var ex = Assert.Throws<InvalidDataException>(() => AppliedRecordStore.Open(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);

        File.WriteAllText(path, """{"host addresses": {"k": {"Original": "x"}}}""");
        ex = Assert.Throws<InvalidDataException>(() => AppliedRecordStore.Open(path));
        Assert.Contains("'k' has no value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_section_is_empty_and_fields_this_version_does_not_know_are_skipped()
    {
        var path = PathOf("records.json");
        File.WriteAllText(path, """{"a": null, "b": {"k": {"Later": [1, {"x": 2}], "Value": "v", "Original": null}, "j": {"Value": "w", "Original": "o"}}}""");
        var store = AppliedRecordStore.Open(path);
        Assert.Equal(0, store.Section("a").Count);
        Assert.True(store.Section("b").TryGet("k", out var k));
        Assert.Equal(new AppliedEntry("v"), k);
        Assert.True(store.Section("b").TryGet("j", out var j));
        Assert.Equal(new AppliedEntry("w", "o"), j);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"a\": {\"k\": {\"Value\": \"v\"}}")]
    [InlineData("{} {}")]
    [InlineData("{\"a\": {\"k\": {\"Value\": 5}}}")]
    [InlineData("{\"a\": [1]}")]
    public void A_cut_or_misshapen_store_file_is_refused_with_its_path(string content)
    {
        var path = PathOf("records.json");
        File.WriteAllText(path, content);
        var ex = Assert.Throws<InvalidDataException>(() => AppliedRecordStore.Open(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }
}
