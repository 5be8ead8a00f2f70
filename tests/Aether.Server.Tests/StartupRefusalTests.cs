using Aether.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Tests;

/// <summary>Options the daemon refuses before it creates anything: a database (or its directory, or its lock) reached
/// through a symbolic link, owned by another user or in a directory others can write; a token file others can read,
/// too short or too long; a second app on a locked database. Each refusal names the file and the rule, and leaves no
/// socket and no lock file behind.</summary>
public sealed class StartupRefusalTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = Mode0600 | UnixFileMode.UserExecute;

    private readonly string _dir = Directory.CreateTempSubdirectory("aether-refuse-").FullName;

    private string Socket => Path.Combine(_dir, "aether.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ServerOptions Options(string db, string? tokenFile = null) => new()
    {
        SocketPath = Socket,
        DatabasePath = db,
        Listen = tokenFile is null ? null : new Uri("http://127.0.0.1:0"),
        TokenFile = tokenFile,
        Hub = (_, _) => Task.FromResult<IWireGuardHub>(new FakeHub()),
        ConfigureBuilder = b => b.Services.AddSingleton<IHubStore>(new InMemoryHubStore()),
    };

    private string Dir(string name, UnixFileMode mode = Mode0700)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private void Refused(string db, string expected, string? tokenFile = null)
    {
        static bool Exists(string path) => File.Exists(path) || new FileInfo(path).LinkTarget is not null;
        var lockBefore = Exists(db + ".lock");
        var e = Assert.Throws<ServerOptionsException>(() => AetherServer.BuildApp(Options(db, tokenFile)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Socket), "a socket was created");
        Assert.Equal(lockBefore, Exists(db + ".lock"));
    }

    [Fact]
    public void A_database_file_that_is_a_symbolic_link_is_refused_and_its_target_untouched()
    {
        var lib = Dir("lib");
        var target = Path.Combine(_dir, "elsewhere.db");
        File.WriteAllText(target, "not yours");
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var db = Path.Combine(lib, "aether.db");
        File.CreateSymbolicLink(db, target);
        Refused(db, $"the file {db} is a symbolic link");

        // A dangling link (where SQLite would create the file at the link's target) too.
        var dangling = Path.Combine(lib, "dangling.db");
        File.CreateSymbolicLink(dangling, Path.Combine(_dir, "nowhere.db"));
        Refused(dangling, "is a symbolic link");
        Assert.False(File.Exists(Path.Combine(_dir, "nowhere.db")));
        Assert.Equal("not yours", File.ReadAllText(target));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(target));
    }

    [Fact]
    public void A_database_directory_reached_through_a_symbolic_link_is_refused()
    {
        var real = Dir("real");
        var link = Path.Combine(_dir, "link");
        Directory.CreateSymbolicLink(link, real);
        Refused(Path.Combine(link, "aether.db"), $"the database's directory {link} is a symbolic link");
        Assert.Empty(Directory.EnumerateFileSystemEntries(real));
    }

    [Fact]
    public void A_database_or_directory_owned_by_another_user_is_refused_naming_the_uid()
    {
        var theirs = Dir("theirs");
        File.SetUnixFileMode(theirs, Mode0700);
        Chown(theirs, 65534);
        Refused(Path.Combine(theirs, "aether.db"), $"the database's directory {theirs} is owned by uid 65534, not by the daemon's user (uid 0)");

        var lib = Dir("lib");
        var db = Path.Combine(lib, "aether.db");
        File.WriteAllText(db, "");
        File.SetUnixFileMode(db, Mode0600);
        Chown(db, 65534);
        Refused(db, $"the file {db} is owned by uid 65534");

        var lockOwned = Path.Combine(lib, "locked.db");
        File.WriteAllText(lockOwned + ".lock", "");
        Chown(lockOwned + ".lock", 1);
        Refused(lockOwned, $"the file {lockOwned}.lock is owned by uid 1");
    }

    [Theory]
    [InlineData("777")]
    [InlineData("775")]
    [InlineData("730")]
    [InlineData("1777")]
    public void A_database_directory_others_can_write_is_refused(string mode)
    {
        var open = Dir("open-" + mode);
        File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32(mode, 8));
        Refused(Path.Combine(open, "aether.db"), "must not be writable by group or others");
        Assert.Empty(Directory.EnumerateFileSystemEntries(open));
    }

    [Fact]
    public void A_lock_file_that_is_a_symbolic_link_is_refused()
    {
        var lib = Dir("lib");
        var db = Path.Combine(lib, "aether.db");
        File.CreateSymbolicLink(db + ".lock", Path.Combine(_dir, "victim"));
        Refused(db, "is a symbolic link: not following it");
        Assert.False(File.Exists(Path.Combine(_dir, "victim")));
    }

    [Fact]
    public async Task A_second_app_on_a_locked_database_is_refused_naming_this_pid_and_the_first_releases_it_when_disposed()
    {
        var lib = Dir("lib");
        var db = Path.Combine(lib, "aether.db");
        var first = AetherServer.BuildApp(Options(db) with { SocketPath = Path.Combine(_dir, "one.sock") });
        await using (first)
        {
            Assert.Equal(Environment.ProcessId + "\n", Cat(db + ".lock")); // .NET's own readers would ask flock for a share
            var e = Assert.Throws<ServerOptionsException>(() => AetherServer.BuildApp(Options(db) with { SocketPath = Path.Combine(_dir, "two.sock") }));
            Assert.Contains($"another daemon (pid {Environment.ProcessId}) uses this database: it holds {db}.lock", e.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "two.sock")));
        }

        // Free once the first is disposed. A process another test forks at that moment shares the lock's open file
        // until it execs (O_CLOEXEC), so the lock may outlive the dispose by that long: tries over 10 s (a loaded machine).
        Microsoft.AspNetCore.Builder.WebApplication? again = null;
        for (var attempt = 0; again is null; attempt++)
        {
            try
            {
                again = AetherServer.BuildApp(Options(db) with { SocketPath = Path.Combine(_dir, "two.sock") });
            }
            catch (ServerOptionsException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }

        await again.DisposeAsync();
    }

    [Theory]
    [InlineData("644")]
    [InlineData("640")]
    [InlineData("604")]
    [InlineData("660")]
    [InlineData("602")]
    public void A_token_file_group_or_others_can_reach_is_refused_naming_the_file_and_the_rule(string mode)
    {
        var token = Path.Combine(_dir, "token-" + mode);
        File.WriteAllText(token, new string('t', 40));
        File.SetUnixFileMode(token, (UnixFileMode)Convert.ToInt32(mode, 8));
        Refused(Path.Combine(Dir("lib"), "aether.db"), $"--token-file {token}: mode {mode} lets group or others at the token: it must be 0600 or 0400", token);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(31)]
    public void A_token_shorter_than_32_bytes_is_refused(int length)
    {
        var token = Path.Combine(_dir, "token");
        File.WriteAllText(token, "  " + new string('t', length) + "\n");
        File.SetUnixFileMode(token, Mode0600);
        Refused(Path.Combine(Dir("lib"), "aether.db"), $"--token-file {token}: the token is {length} bytes: it must be at least 32", token);
    }

    [Fact]
    public async Task A_token_of_32_bytes_mode_0400_is_taken_and_one_over_4_KiB_is_refused()
    {
        var token = Path.Combine(_dir, "token");
        File.WriteAllText(token, new string('t', 32) + "\n");
        File.SetUnixFileMode(token, UnixFileMode.UserRead);
        var app = AetherServer.BuildApp(Options(Path.Combine(Dir("lib"), "aether.db"), token));
        await app.DisposeAsync();

        var big = Path.Combine(_dir, "big");
        File.WriteAllText(big, new string('t', 5000));
        File.SetUnixFileMode(big, Mode0600);
        Refused(Path.Combine(_dir, "lib", "other.db"), $"--token-file {big}: the file is over 4096 bytes", big);
    }

    private static string Cat(string path)
    {
        using var cat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cat", [path]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = cat.StandardOutput.ReadToEnd();
        cat.WaitForExit();
        return text;
    }

    private static void Chown(string path, int uid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [uid.ToString(System.Globalization.CultureInfo.InvariantCulture), path]);
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
