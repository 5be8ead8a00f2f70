using Aether.Server.Store;
using Aether.Hub;

namespace Aether.Server.Tests;

/// <summary>The SQLite store on a temporary file.</summary>
public sealed class StoreTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static HubNetworkRequest Network(string id, int index) =>
        System.Text.Json.JsonSerializer.Deserialize<HubNetworkRequest>(Requests.Valid(id, index).ToJsonString(), System.Text.Json.JsonSerializerOptions.Web)!.Validate().Request;

    [Fact]
    public async Task Saves_loads_replaces_deletes_and_survives_reopening()
    {
        var path = Path.Combine(_dir, "state", "aether.db");
        var one = Network("net1", 1);
        var two = Network("net2", 2) with { PersistentKeepalive = 25, ContainerPid = null };
        await using (var store = SqliteHubStore.Open(path))
        {
            Assert.Empty(await store.LoadAsync(default));
            await store.SaveAsync(one, default);
            await store.SaveAsync(two, default);
            await store.SaveAsync(one with { ListenPort = 40000 }, default);
            await store.DeleteAsync("nothing-there", default);
            var loaded = (await store.LoadAsync(default)).OrderBy(n => n.Index).ToList();
            Assert.Equal([one with { ListenPort = 40000 }, two], loaded);
        }

        await using (var reopened = SqliteHubStore.Open(path))
        {
            var loaded = (await reopened.LoadAsync(default)).OrderBy(n => n.Index).ToList();
            Assert.Equal([one with { ListenPort = 40000 }, two], loaded);
            await reopened.DeleteAsync("net1", default);
        }

        await using (var again = SqliteHubStore.Open(path))
        {
            Assert.Equal([two], await again.LoadAsync(default));
        }
    }

    [Fact]
    public async Task The_file_is_0600_in_a_directory_created_0700_and_a_wider_mode_is_narrowed()
    {
        var path = Path.Combine(_dir, "new", "aether.db");
        await using (var store = SqliteHubStore.Open(path))
        {
            await store.SaveAsync(Network("net1", 1), default);
        }

        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));

        File.SetUnixFileMode(path, Mode0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using (var store = SqliteHubStore.Open(path))
        {
            Assert.Single(await store.LoadAsync(default));
        }

        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Keys_are_kept_exactly_and_a_newer_schema_is_refused()
    {
        var path = Path.Combine(_dir, "aether.db");
        var network = Network("net1", 1);
        await using (var store = SqliteHubStore.Open(path))
        {
            await store.SaveAsync(network, default);
            Assert.Equal(network.PrivateKey, Assert.Single(await store.LoadAsync(default)).PrivateKey);
        }

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path + ";Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version) VALUES (99)";
            await command.ExecuteNonQueryAsync();
        }

        var e = Assert.Throws<InvalidOperationException>(() => SqliteHubStore.Open(path));
        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_1_file_is_upgraded_its_rows_read_as_before_and_attachments_go_with_their_network()
    {
        // A database as schema 1 wrote it: the single-peer columns, no peers, NAT policy or attachments.
        var path = Path.Combine(_dir, "old.db");
        var key = Aether.WireGuard.WireGuardSecretKey.GeneratePrivate();
        var peer = Aether.WireGuard.WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path + ";Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version (version) VALUES (1);
                CREATE TABLE hub_networks (network_id TEXT NOT NULL PRIMARY KEY, idx INTEGER NULL, container TEXT NULL, container_pid INTEGER NULL,
                    private_key TEXT NULL, listen_port INTEGER NULL, peer_endpoint TEXT NULL, peer_public_key TEXT NULL, address TEXT NULL,
                    network_cidr TEXT NULL, gateway TEXT NULL, persistent_keepalive INTEGER NULL, updated_at INTEGER NOT NULL);
                INSERT INTO hub_networks VALUES ('old', 3, 'aetold', NULL, '{key.ToBase64()}', 51823, '192.0.2.9:51823', '{peer}', '10.3.0.2', '10.3.0.0/24', '10.3.0.1', 25, 0);
                """;
            await command.ExecuteNonQueryAsync();
        }

        await using (var store = SqliteHubStore.Open(path))
        {
            var old = Assert.Single(await store.LoadAsync(default));
            Assert.Equal((peer, "192.0.2.9:51823", 25, (IReadOnlyList<HubPeerRequest>?)null, (string?)null), (old.PeerPublicKey, old.PeerEndpoint, old.PersistentKeepalive, old.Peers, old.NatPolicy));
            var spec = old.Validate();
            var only = Assert.Single(spec.Peers);
            Assert.Equal((peer, "10.3.0.0/24", 25), (only.PublicKey.ToString(), only.AllowedIps.Single().ToString(), (int)only.PersistentKeepalive));
            Assert.Equal("warn", spec.NatPolicy);

            // Saved again in the new form, with an attachment.
            await store.SaveAsync(spec.Request, default);
            await store.SaveAttachmentAsync(new HubStoredAttachment("old", new HubAttachRequest { AttachmentId = "a1", Container = "aetc2", Interface = "eth1", Address = "10.3.0.7" }, "veth3-1"), default);
            await store.SaveAttachmentAsync(new HubStoredAttachment("old", new HubAttachRequest { AttachmentId = "a2", Container = "aetc3", Interface = "eth2", Address = "10.3.0.8" }, "veth3-2", DefaultRoute: false), default);
        }

        // A row as schema 3 left it (no default_route): it may take the default route, as before.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path + ";Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE hub_attachments SET default_route = NULL WHERE attachment_id = 'a1'";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        await using (var reopened = SqliteHubStore.Open(path))
        {
            var again = Assert.Single(await reopened.LoadAsync(default));
            Assert.Equal(again.Validate().Request, again);
            Assert.Equal(peer, Assert.Single(again.Peers!).PublicKey);
            var loaded = (await reopened.LoadAttachmentsAsync(default)).OrderBy(a => a.Request.AttachmentId, StringComparer.Ordinal).ToList();
            Assert.Equal(2, loaded.Count);
            var attachment = loaded[0];
            Assert.Equal(("old", "a1", "aetc2", "eth1", "10.3.0.7", "veth3-1", true), (attachment.NetworkId, attachment.Request.AttachmentId, attachment.Request.Container, attachment.Request.Interface, attachment.Request.Address, attachment.HostInterface, attachment.DefaultRoute));
            Assert.Equal(("a2", false), (loaded[1].Request.AttachmentId, loaded[1].DefaultRoute));
            await reopened.DeleteAttachmentAsync("old", "nothing", default);
            Assert.Equal(2, (await reopened.LoadAttachmentsAsync(default)).Count);
            await reopened.DeleteAsync("old", default);
            Assert.Empty(await reopened.LoadAttachmentsAsync(default));
        }
    }
}
