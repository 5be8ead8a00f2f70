using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Aether.Packaging.Tests;

/// <summary>
/// A local folder feed with the repository's packages in it: <c>dotnet pack --no-build</c> of every project under
/// src/ (only the packable ones make a package) from the build this test assembly was built with, made once for
/// every test of the collection and deleted after them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class PackageFeed : IAsyncLifetime
{
    /// <summary>The library packages, one per packable library project.</summary>
    public static readonly IReadOnlyList<string> Libraries =
        ["Aether.Netlink", "Aether.Nftables", "Aether.Ovsdb", "Aether.Reconcile", "Aether.WireGuard", "Aether.Topology"];

    /// <summary>The CLI's dotnet tool package.</summary>
    public const string Tool = "aether-netns";

    private readonly string _root = Directory.CreateTempSubdirectory("aet-pack-").FullName;

    /// <summary>A scratch directory that goes with the feed (consumers, tool paths, tarballs).</summary>
    public string Scratch => _root;

    /// <summary>The folder the packages are in.</summary>
    public string Folder => Path.Combine(_root, "feed");

    /// <summary>The version every package has (from the git tags, MinVer).</summary>
    public string Version { get; private set; } = "";

    /// <summary>The package files, by id.</summary>
    public IReadOnlyDictionary<string, string> Packages { get; private set; } = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        try
        {
            await PackAsync();
        }
        catch
        {
            Directory.Delete(_root, recursive: true);
            throw;
        }
    }

    private async Task PackAsync()
    {
        // One solution with every project under src/, so that one pack resolves the tool's project references in the
        // same configuration as the tool (a pack of the CLI's project alone looks for them in Debug).
        var projects = Directory.GetFiles(Path.Combine(Repo.Root, "src"), "*.csproj", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        var solution = Path.Combine(_root, "pack.slnx");
        new XDocument(new XElement("Solution", projects.Select(p => new XElement("Project", new XAttribute("Path", p))))).Save(solution);

        await Repo.DotnetAsync(_root, TimeSpan.FromMinutes(4), "pack", solution, "--no-build", "-c", Repo.Configuration, "-o", Folder, "-nologo", "--disable-build-servers");

        var packages = new Dictionary<string, string>(StringComparer.Ordinal);
        var versions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Folder, "*.nupkg"))
        {
            var nuspec = Nuspec(file);
            packages.Add(nuspec.Id, file);
            versions.Add(nuspec.Version);
        }

        Packages = packages;
        Version = Assert.Single(versions);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The package's manifest.</summary>
    public static NuspecInfo Nuspec(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entry = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.Name.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        var doc = XDocument.Load(stream);
        var ns = doc.Root!.Name.Namespace;
        var metadata = doc.Root.Element(ns + "metadata")!;
        string? Get(string name) => metadata.Element(ns + name)?.Value;
        var repository = metadata.Element(ns + "repository");
        return new NuspecInfo(
            Get("id")!,
            Get("version")!,
            Get("authors"),
            Get("description"),
            metadata.Element(ns + "license") is { } license ? $"{license.Attribute("type")?.Value}:{license.Value}" : null,
            Get("readme"),
            Get("tags"),
            repository?.Attribute("type")?.Value,
            repository?.Attribute("commit")?.Value,
            [.. metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value)],
            [.. metadata.Descendants(ns + "packageType").Select(t => t.Attribute("name")!.Value)],
            [.. zip.Entries.Select(e => e.FullName)]);
    }

    /// <summary>Whether <paramref name="version"/> is a SemVer 2 version (with no build metadata).</summary>
    public static bool IsSemVer(string version) => SemVer().IsMatch(version);

    [GeneratedRegex(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")]
    private static partial Regex SemVer();
}

/// <summary>What a package's .nuspec says, and the files in the package.</summary>
public sealed record NuspecInfo(
    string Id,
    string Version,
    string? Authors,
    string? Description,
    string? License,
    string? Readme,
    string? Tags,
    string? RepositoryType,
    string? RepositoryCommit,
    IReadOnlyList<string> Dependencies,
    IReadOnlyList<string> PackageTypes,
    IReadOnlyList<string> Files);

/// <summary>The tests that share one <see cref="PackageFeed"/>.</summary>
[CollectionDefinition(Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PackageFeedCollection : ICollectionFixture<PackageFeed>
{
    public const string Name = "package feed";
}
