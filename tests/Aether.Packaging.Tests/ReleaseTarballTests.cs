using System.Formats.Tar;
using System.IO.Compression;

namespace Aether.Packaging.Tests;

/// <summary>
/// dist/release.sh makes aether-VERSION-linux-x64.tar.gz from a build of the CLI: the build as ./aether made it where
/// test.sh names it ($AETHER_CLI: the native binary with the daemon's build in serve/), else the framework-dependent
/// build the tool package has (published here from the build this assembly references), so the test never waits
/// for a native build. Laid out as under /usr/local: the binary and all beside it, a bin/ link, the systemd units,
/// completions and man page the CLI writes, the rt_protos.d entry, the README and LICENSE.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseTarballTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-release-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_tarball_has_the_build_units_docs_and_what_the_cli_generates()
    {
        var build = await BuildAsync();
        var output = Path.Combine(_dir, "out");
        var release = await Repo.RunAsync("bash", [Path.Combine(Repo.Root, "dist", "release.sh"), "--build-dir", build, "--out", output], Repo.Root, TimeSpan.FromMinutes(3));
        Assert.True(release.Code == 0, release.ToString());

        var full = (await Repo.RunAsync(Path.Combine(build, "aether"), ["--version"], _dir, TimeSpan.FromSeconds(60))).Stdout.Trim();
        var version = full.Split('+')[0];
        Assert.True(PackageFeed.IsSemVer(version), $"'{full}' is not a version");
        var name = $"aether-{version}-linux-x64";
        var tarball = Path.Combine(output, name + ".tar.gz");
        Assert.Equal(tarball, release.Stdout.TrimEnd('\n').Split('\n')[^1]);

        var entries = ReadEntries(tarball);
        Assert.All(entries.Values, e => Assert.Equal((0, 0), (e.Uid, e.Gid)));
        Assert.All(entries.Keys, k => Assert.StartsWith(name + "/", k + "/", StringComparison.Ordinal));

        // The build, every file of it but debug symbols and XML documentation, and bin/aether a link to it.
        string[] left = [".dbg", ".pdb", ".xml"];
        var built = Directory.GetFiles(build, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(build, f)).ToList();
        Assert.All(built, f => Assert.Equal(
            !left.Contains(Path.GetExtension(f), StringComparer.Ordinal),
            entries.ContainsKey($"{name}/lib/aether/{f}")));
        Assert.Equal(built.Count(f => !left.Contains(Path.GetExtension(f), StringComparer.Ordinal)), entries.Count(e => e.Key.StartsWith($"{name}/lib/aether/", StringComparison.Ordinal) && e.Value.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile));
        Assert.Equal(TarEntryType.SymbolicLink, entries[$"{name}/bin/aether"].EntryType);
        Assert.Equal("../lib/aether/aether", entries[$"{name}/bin/aether"].LinkName);
        Assert.True(entries[$"{name}/lib/aether/aether"].Mode.HasFlag(UnixFileMode.UserExecute));

        // Unpacked, it runs and says the version it is named after.
        var root = Path.Combine(_dir, "unpacked");
        Directory.CreateDirectory(root);
        await using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
        {
            await TarFile.ExtractToDirectoryAsync(gzip, root, overwriteFiles: false);
        }

        var unpacked = await Repo.RunAsync(Path.Combine(root, name, "bin", "aether"), ["--version"], _dir, TimeSpan.FromSeconds(60));
        Assert.Equal(full + "\n", unpacked.Stdout);

        // The systemd units, as they are in the repository; the README and LICENSE.
        var units = UnitFiles();
        Assert.NotEmpty(units);
        foreach (var unit in units)
        {
            Assert.Equal(File.ReadAllText(unit), File.ReadAllText(Path.Combine(root, name, "lib", "systemd", "system", Path.GetFileName(unit))));
        }

        Assert.Equal(units.Select(Path.GetFileName).Order(StringComparer.Ordinal), entries.Keys.Where(k => k.StartsWith($"{name}/lib/systemd/system/", StringComparison.Ordinal) && entries[k].EntryType != TarEntryType.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.Root, "LICENSE")), File.ReadAllText(Path.Combine(root, name, "share", "doc", "aether", "LICENSE")));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.Root, "README.md")), File.ReadAllText(Path.Combine(root, name, "share", "doc", "aether", "README.md")));

        // The completions and aether(1), as the packaged CLI writes them; the rt_protos.d entry as it is in dist/.
        var bin = Path.Combine(root, name, "bin", "aether");
        foreach (var (shell, path) in new[] { ("bash", "share/bash-completion/completions/aether"), ("zsh", "share/zsh/site-functions/_aether"), ("fish", "share/fish/vendor_completions.d/aether.fish") })
        {
            var script = await Repo.RunAsync(bin, ["completion", shell], _dir, TimeSpan.FromSeconds(60));
            Assert.Equal(script.Stdout, File.ReadAllText(Path.Combine(root, name, path)));
        }

        var page = File.ReadAllText(Path.Combine(root, name, "share", "man", "man1", "aether.1"));
        Assert.StartsWith(".TH AETHER 1 ", page, StringComparison.Ordinal);
        Assert.Contains($"\"aether {full.Split('+')[0].Replace("-", "\\-", StringComparison.Ordinal)}\"", page, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.Root, "dist", "iproute2", "rt_protos.d", "aether.conf")), File.ReadAllText(Path.Combine(root, name, "share", "aether", "iproute2", "rt_protos.d", "aether.conf")));
    }

    /// <summary>The build to package: test.sh's ($AETHER_CLI, made by ./aether), else the framework-dependent one.</summary>
    private async Task<string> BuildAsync()
    {
        if (Environment.GetEnvironmentVariable("AETHER_CLI") is { Length: > 0 } cli)
        {
            return Path.GetDirectoryName(Path.GetFullPath(cli))!;
        }

        var dir = Path.Combine(_dir, "cli");
        await Repo.DotnetAsync(Repo.Root, TimeSpan.FromMinutes(3), "publish", Path.Combine(Repo.Root, "src", "Aether.Cli", "Aether.Cli.csproj"),
            "--no-build", "-c", Repo.Configuration, "-o", dir, "-nologo", "--disable-build-servers");
        return dir;
    }

    /// <summary>The units the release takes: dist/systemd/.</summary>
    private static string[] UnitFiles() =>
        [.. Directory.GetFiles(Path.Combine(Repo.Root, "dist", "systemd")).Where(f => f.EndsWith(".service", StringComparison.Ordinal) || f.EndsWith(".socket", StringComparison.Ordinal))];

    private static Dictionary<string, TarEntry> ReadEntries(string tarball)
    {
        using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        while (reader.GetNextEntry() is { } entry)
        {
            entries[entry.Name.TrimEnd('/')] = entry;
        }

        return entries;
    }
}
