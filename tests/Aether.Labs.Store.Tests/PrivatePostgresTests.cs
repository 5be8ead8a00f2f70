using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Aether.Labs.Store.Tests;

/// <summary>The launcher itself: a server of its own, not root's, in a temp directory, gone with its directory after
/// dispose.</summary>
public sealed class PrivatePostgresTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_private_server_runs_as_postgres_in_a_temp_directory_and_is_gone_after_dispose()
    {
        var server = await PrivatePostgres.StartAsync();
        int pid;
        string directory = server.Directory;
        try
        {
            output.WriteLine($"initdb + pg_ctl start: {server.StartTime.TotalMilliseconds:F0} ms (bin {server.BinDirectory}, port {server.Port})");
            Assert.StartsWith(Path.Combine(Path.GetTempPath(), "aetpg"), directory, StringComparison.Ordinal);
            Assert.Equal([["127.0.0.1", server.DataDirectory]], await server.QueryAsync("postgres", "SELECT host(inet_server_addr()), current_setting('data_directory')"));
            var database = await server.CreateDatabaseAsync();
            Assert.StartsWith("aet_", database, StringComparison.Ordinal);
            Assert.Equal([["1"]], await server.QueryAsync(database, "SELECT 1"));

            pid = int.Parse(File.ReadLines(Path.Combine(server.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            var status = await File.ReadAllLinesAsync($"/proc/{pid}/status");
            var uid = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.NotEqual("0", uid); // PostgreSQL refuses root: the postgres user runs it
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(Directory.Exists(directory));
        Assert.False(File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(") ", 2)[1].StartsWith('Z'), $"postmaster {pid} still runs");
        await server.DisposeAsync(); // twice is fine
    }
}
