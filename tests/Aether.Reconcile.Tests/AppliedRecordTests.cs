using System.Text.Json;

namespace Aether.Reconcile.Tests;

public sealed class AppliedRecordTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void In_memory_sets_gets_snapshots_and_removes()
    {
        var record = AppliedRecord.InMemory();
        Assert.Null(record.FilePath);
        Assert.Equal(0, record.Count);

        record.Set("address eth0 10.0.0.1/24", new AppliedEntry("10.0.0.1/24"));
        record.Set("sysctl net/ipv4/ip_forward", new AppliedEntry("1", Original: "0"));
        Assert.Equal(2, record.Count);
        Assert.True(record.TryGet("sysctl net/ipv4/ip_forward", out var entry));
        Assert.Equal(new AppliedEntry("1", "0"), entry);
        Assert.False(record.TryGet("address eth0 10.0.0.2/24", out _));

        var snapshot = record.Snapshot();
        Assert.True(record.Remove("address eth0 10.0.0.1/24"));
        Assert.False(record.Remove("address eth0 10.0.0.1/24"));
        Assert.Equal(1, record.Count);
        Assert.Equal(2, snapshot.Count); // a copy: later changes do not show through
    }

    [Fact]
    public void Many_entries_are_set_in_one_write_and_read_back()
    {
        var path = PathOf("many.json");
        var record = AppliedRecord.Open(path);
        record.SetMany(Enumerable.Range(0, 500).Select(i => KeyValuePair.Create($"namespace n{i}", new AppliedEntry("created"))));
        var written = File.GetLastWriteTimeUtc(path);
        record.SetMany([KeyValuePair.Create("namespace n7", new AppliedEntry("created"))]); // nothing new: no write
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));

        var reread = AppliedRecord.Open(path);
        Assert.Equal(500, reread.Count);
        Assert.True(reread.TryGet("namespace n499", out var entry));
        Assert.Equal("created", entry.Value);
    }

    [Fact]
    public void Keys_are_ordinal()
    {
        var record = AppliedRecord.InMemory();
        record.Set("address Eth0 10.0.0.1/24", new AppliedEntry("x"));
        Assert.False(record.TryGet("address eth0 10.0.0.1/24", out _));
    }

    [Fact]
    public void Empty_keys_and_null_entries_are_refused()
    {
        var record = AppliedRecord.InMemory();
        Assert.Throws<ArgumentException>(() => record.Set("", new AppliedEntry("x")));
        Assert.Throws<ArgumentNullException>(() => record.Set("k", null!));
    }

    [Fact]
    public void A_missing_file_opens_empty_and_is_created_on_the_first_change()
    {
        var path = PathOf("sub/dir/record.json");
        var record = AppliedRecord.Open(path);
        Assert.Equal(0, record.Count);
        Assert.Equal(Path.GetFullPath(path), record.FilePath);
        Assert.False(File.Exists(path)); // opening alone writes nothing

        record.Set("k", new AppliedEntry("v"));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void The_file_round_trips_every_change()
    {
        var path = PathOf("record.json");
        var record = AppliedRecord.Open(path);
        record.Set("address eth0 fd00::1/64", new AppliedEntry("fd00::1/64"));
        record.Set("sysctl net/ipv4/ip_forward", new AppliedEntry("1", "0"));
        record.Set("gone", new AppliedEntry("x"));
        record.Remove("gone");

        var again = AppliedRecord.Open(path);
        Assert.Equal(
            record.Snapshot().OrderBy(kv => kv.Key, StringComparer.Ordinal),
            again.Snapshot().OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(2, again.Count);
        Assert.True(again.TryGet("sysctl net/ipv4/ip_forward", out var entry));
        Assert.Equal("0", entry.Original);

        // The file is plain JSON another tool can read.
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal("fd00::1/64", doc.RootElement.GetProperty("address eth0 fd00::1/64").GetProperty("Value").GetString());
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"k\": 5}")]
    [InlineData("{\"k\": {\"Original\": \"0\"}}")]
    [InlineData("{\"k\": null}")]
    public void A_corrupt_file_is_InvalidDataException_naming_it(string content)
    {
        var path = PathOf("bad.json");
        File.WriteAllText(path, content);
        var ex = Assert.Throws<InvalidDataException>(() => AppliedRecord.Open(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path)); // left as it was found
    }

    [Fact]
    public void Writes_replace_the_file_whole_and_leave_no_temporary_behind()
    {
        var path = PathOf("record.json");
        var record = AppliedRecord.Open(path);
        for (var i = 0; i < 20; i++)
        {
            record.Set("k" + i, new AppliedEntry(new string('x', i * 50)));
            AppliedRecord.Open(path); // every intermediate state is a whole record
        }

        record.Remove("k3");
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(19, AppliedRecord.Open(path).Count);
    }

    [Fact]
    public void Setting_the_same_entry_again_does_not_rewrite_the_file()
    {
        var path = PathOf("record.json");
        var record = AppliedRecord.Open(path);
        record.Set("k", new AppliedEntry("v"));
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        record.Set("k", new AppliedEntry("v"));
        record.Remove("absent");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        record.Set("k", new AppliedEntry("w"));
        Assert.NotEqual(stamp, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void Concurrent_writers_lose_nothing()
    {
        var path = PathOf("record.json");
        var record = AppliedRecord.Open(path);
        Parallel.For(0, 64, i => record.Set("k" + i, new AppliedEntry("v" + i)));
        Assert.Equal(64, record.Count);
        Assert.Equal(64, AppliedRecord.Open(path).Count);
    }
}
