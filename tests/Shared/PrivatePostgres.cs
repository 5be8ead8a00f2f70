using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Aether.TestInfrastructure;

/// <summary>
/// A private PostgreSQL server for tests: a data directory in a fresh temporary directory (<c>aetpg…</c>), owned by
/// the <c>postgres</c> system user because PostgreSQL refuses to run as root; <c>initdb -U postgres --auth=trust</c>
/// and <c>pg_ctl start</c> as that user (<c>runuser</c>) on a free loopback port, its socket in the same directory.
/// Each test takes a database of its own (<see cref="CreateDatabaseAsync"/>). Disposing stops the server
/// (<c>pg_ctl stop -m fast</c>, then SIGKILL to the postmaster this instance started if that failed) and removes the
/// directory; <see cref="StartAsync"/> cleans up the same way when starting fails half-way. <c>psql</c> from the same
/// installation is the oracle (<see cref="QueryAsync"/>), never the code under test.
/// Binaries: <c>initdb</c> on PATH (Debian's <c>/usr/lib/postgresql/N/bin</c> is not on it unless linked), else the
/// newest <c>/usr/lib/postgresql/*/bin</c>.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SystemUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private int _disposed;
    private string _startOptions = "";

    private PrivatePostgres(string binDirectory, string directory)
    {
        BinDirectory = binDirectory;
        Directory = directory;
    }

    /// <summary>Where initdb, pg_ctl and psql were found.</summary>
    public string BinDirectory { get; }

    /// <summary>The temporary directory: <c>data/</c>, the socket and <c>server.log</c>.</summary>
    public string Directory { get; }

    /// <summary>The data directory.</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>The loopback TCP port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>How long <see cref="StartAsync"/> took (initdb + start).</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>Finds the binaries, creates the cluster and starts it; on any failure what was made is removed and
    /// the error says what failed with the tool's own output.</summary>
    public static async Task<PrivatePostgres> StartAsync()
    {
        var clock = Stopwatch.StartNew();
        var bin = FindBinDirectory();
        // Made by the postgres user itself: owned by it, mode 0700, under the test prefix.
        var (code, stdout, stderr) = await RunAsync("runuser", ["-u", SystemUser, "--", "mktemp", "-d", Path.Combine(Path.GetTempPath(), "aetpg" + RandomNumberGenerator.GetString(Alphabet, 5) + "XXXXXX")]);
        if (code != 0)
        {
            throw new InvalidOperationException($"mktemp as {SystemUser} exited {code}: {stderr.Trim()}");
        }

        var server = new PrivatePostgres(bin, stdout.Trim());
        try
        {
            await server.AsPostgresAsync("initdb", "-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C");
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort();
                var options = string.Create(CultureInfo.InvariantCulture, $"-p {server.Port} -k {server.Directory} -c listen_addresses=127.0.0.1 -c max_connections=200");
                var log = Path.Combine(server.Directory, "server.log");
                var (start, output, error) = await server.TryAsPostgresAsync("pg_ctl", "-D", server.DataDirectory, "-l", log, "-o", options, "-w", "-t", "60", "start");
                if (start == 0)
                {
                    server._startOptions = options;
                    break;
                }

                // Someone took the port between our probe and the server's bind: another one. Else say why.
                var serverLog = File.Exists(log) ? await File.ReadAllTextAsync(log) : "";
                if (attempt < 3 && serverLog.Contains("could not bind", StringComparison.Ordinal))
                {
                    continue;
                }

                throw new InvalidOperationException($"pg_ctl start exited {start}: {output.Trim()} {error.Trim()}; server.log: {serverLog.Trim()}");
            }

            server.StartTime = clock.Elapsed;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}");

    /// <summary>A <c>postgres://</c> URL for <paramref name="database"/> as the superuser.</summary>
    public string Url(string database) => string.Create(CultureInfo.InvariantCulture, $"postgres://postgres@127.0.0.1:{Port}/{database}");

    /// <summary>Creates a database of its own for one test (<c>aet_…</c>) and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "aet_" + RandomNumberGenerator.GetString(Alphabet, 10);
        await QueryAsync("postgres", $"CREATE DATABASE {name}");
        return name;
    }

    /// <summary>Runs <paramref name="sql"/> with <c>psql</c> in <paramref name="database"/> and returns the rows,
    /// each as its column texts (NULL as null). Throws with psql's message when it fails.</summary>
    public async Task<IReadOnlyList<string?[]>> QueryAsync(string database, string sql)
    {
        var (code, stdout, stderr) = await TryQueryAsync(database, sql);
        return code == 0 ? stdout : throw new InvalidOperationException($"psql -c \"{sql}\" exited {code}: {stderr.Trim()}");
    }

    /// <summary>Runs <paramref name="sql"/> with <c>psql</c>: its exit code, rows and error text.</summary>
    public async Task<(int Code, IReadOnlyList<string?[]> Rows, string Error)> TryQueryAsync(string database, string sql)
    {
        const string Null = "\u0001NULL\u0001";
        var (code, stdout, stderr) = await RunAsync(Path.Combine(BinDirectory, "psql"),
        [
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\u001f", "-R", "\u001e", "-P", "null=" + Null,
            "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-c", sql,
        ]);
        var rows = stdout.TrimEnd('\n').Split('\u001e', StringSplitOptions.RemoveEmptyEntries)
            .Select(row => row.Split('\u001f').Select(v => v == Null ? null : v).ToArray())
            .ToList();
        return (code, rows, stderr);
    }

    /// <summary>Restarts the server on the same data directory and port: <c>pg_ctl stop -m fast</c> (every client's
    /// connection is closed), <paramref name="whileDown"/> run, <paramref name="down"/> without a server in all, then
    /// <c>pg_ctl start</c>.</summary>
    public async Task RestartAsync(TimeSpan down, Func<Task>? whileDown = null)
    {
        await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop");
        var clock = Stopwatch.StartNew();
        if (whileDown is not null)
        {
            await whileDown();
        }

        if (down > clock.Elapsed)
        {
            await Task.Delay(down - clock.Elapsed);
        }

        await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(Directory, "server.log"), "-o", _startOptions, "-w", "-t", "60", "start");
    }

    /// <summary>Stops the server and removes its directory; safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<string> errors = [];
        if (ReadPostmasterPid() is { } pid)
        {
            var (code, _, stderr) = await TryAsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop");
            if (code != 0)
            {
                errors.Add($"pg_ctl stop exited {code}: {stderr.Trim()}");
            }

            // pg_ctl returns when the pid file is gone, a moment before the postmaster has exited: wait for that, and
            // kill it (the postmaster this instance started: its pid file was in our directory) if it does not go.
            if (!await ExitedAsync(pid, TimeSpan.FromSeconds(10)))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // gone meanwhile
                }

                errors.Add($"postmaster {pid} still ran after pg_ctl stop: killed");
            }
        }

        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            errors.Add($"remove {Directory}: {ex.Message}");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("private PostgreSQL cleanup: " + string.Join("; ", errors));
        }
    }

    /// <summary>The directory holding initdb: PATH first (links resolved), then the newest Debian installation.</summary>
    public static string FindBinDirectory()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "initdb");
            if (File.Exists(candidate))
            {
                var real = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate;
                return Path.GetDirectoryName(real)!;
            }
        }

        var installed = System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")) && int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out _))
                .OrderByDescending(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture))
                .FirstOrDefault()
            : null;
        return installed is not null
            ? Path.Combine(installed, "bin")
            : throw new InvalidOperationException("initdb is neither on PATH nor in /usr/lib/postgresql/*/bin: install Debian's postgresql (test.sh does)");
    }

    /// <summary>Whether <paramref name="pid"/> is gone (or a zombie, dead but not yet reaped by init) within
    /// <paramref name="timeout"/>.</summary>
    private static async Task<bool> ExitedAsync(int pid, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            string? state = null;
            try
            {
                state = (await File.ReadAllTextAsync($"/proc/{pid}/stat")).Split(") ", 2)[1][..1];
            }
            catch (IOException)
            {
                // no such process
            }

            if (state is null or "Z" or "X")
            {
                return true;
            }

            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }
    }

    private int? ReadPostmasterPid()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task AsPostgresAsync(string tool, params string[] args)
    {
        var (code, stdout, stderr) = await TryAsPostgresAsync(tool, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {code}: {stdout.Trim()} {stderr.Trim()}");
        }
    }

    private Task<(int Code, string Stdout, string Stderr)> TryAsPostgresAsync(string tool, params string[] args) =>
        RunAsync("runuser", ["-u", SystemUser, "--", Path.Combine(BinDirectory, tool), .. args], Directory);

    /// <summary>A port nobody listened on a moment ago (the server's bind is the real test; see the retry).</summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string[] args, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? "/",
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException ex)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {CommandTimeout.TotalSeconds} s", ex);
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
