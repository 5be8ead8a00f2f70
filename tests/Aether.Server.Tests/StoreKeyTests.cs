using System.Security.Cryptography;
using System.Text;
using Aether.Hub;
using Aether.Server.Store;

namespace Aether.Server.Tests;

/// <summary>What the SQLite file keeps of private keys: a removed network's key, or a replaced one, is in none of the
/// files (database, write-ahead log, shared memory) while the store is open or after it is closed; the log and the
/// shared memory have the database's mode, 0600, even under a umask that would give others read.</summary>
public sealed class StoreKeyTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static HubNetworkRequest Network(string id, int index, string key) =>
        System.Text.Json.JsonSerializer.Deserialize<HubNetworkRequest>(Requests.Valid(id, index).ToJsonString(), System.Text.Json.JsonSerializerOptions.Web)!.Validate().Request with { PrivateKey = key };

    private static string[] Files(string db) => [.. new[] { db, db + "-wal", db + "-shm", db + "-journal" }.Where(File.Exists)];

    /// <summary>The files that hold <paramref name="key"/> (as text or as its 32 raw bytes).</summary>
    private static string[] Holding(string db, string key)
    {
        var text = Encoding.ASCII.GetBytes(key);
        var raw = Convert.FromBase64String(key);
        return [.. Files(db).Where(f =>
        {
            var bytes = File.ReadAllBytes(f);
            return bytes.AsSpan().IndexOf(text) >= 0 || bytes.AsSpan().IndexOf(raw) >= 0;
        })];
    }

    [Fact]
    public async Task Removed_and_replaced_keys_are_in_no_file_and_the_log_has_mode_0600()
    {
        var db = Path.Combine(_dir, "lib", "aether.db");
        var (kept, removed, replaced, replacement) = (NewKey(), NewKey(), NewKey(), NewKey());
        await using (var store = SqliteHubStore.Open(db))
        {
            await store.SaveAsync(Network("aetkeep", 1, kept), default);
            await store.SaveAsync(Network("aetgone", 2, removed), default);
            await store.SaveAsync(Network("aetswap", 3, replaced), default);
            for (var i = 10; i < 40; i++)
            {
                await store.SaveAsync(Network("aetfill" + i, i, NewKey()), default); // more pages, more log frames
            }

            // The oracle sees keys that are there: each one just saved is in some file.
            Assert.NotEmpty(Holding(db, removed));
            Assert.NotEmpty(Holding(db, replaced));

            await store.DeleteAsync("aetgone", default);
            await store.SaveAsync(Network("aetswap", 3, replacement), default);

            Assert.Empty(Holding(db, removed));
            Assert.Empty(Holding(db, replaced));
            Assert.NotEmpty(Holding(db, kept));
            Assert.NotEmpty(Holding(db, replacement));

            foreach (var file in Files(db))
            {
                Assert.True(File.GetUnixFileMode(file) == Mode0600, $"{file}: {File.GetUnixFileMode(file)}");
            }

            Assert.Contains(db + "-wal", Files(db));
            var ids = (await store.LoadAsync(default)).Select(n => n.NetworkId).ToList();
            Assert.Equal(32, ids.Count);
            Assert.DoesNotContain("aetgone", ids);
            Assert.Contains("aetswap", ids);
        }

        Assert.Empty(Holding(db, removed));
        Assert.Empty(Holding(db, replaced));
        await using (var reopened = SqliteHubStore.Open(db))
        {
            Assert.Equal(replacement, (await reopened.LoadAsync(default)).Single(n => n.NetworkId == "aetswap").PrivateKey);
        }
    }

    [Fact]
    public void A_database_that_is_a_symbolic_link_is_not_opened()
    {
        var target = Path.Combine(_dir, "target.db");
        File.WriteAllText(target, "");
        var link = Path.Combine(_dir, "aether.db");
        File.CreateSymbolicLink(link, target);
        var e = Assert.Throws<InvalidOperationException>(() => SqliteHubStore.Open(link));
        Assert.Contains("is a symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(target).Length);
    }
}
