namespace Aether.Packaging.Tests;

/// <summary>What <c>dotnet pack</c> makes: exactly the libraries and the tool, one version, and each package's
/// metadata (license, readme, tags, repository, description) and contents.</summary>
[Collection(PackageFeedCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PackageMetadataTests(PackageFeed feed)
{
    // Build-time packages: they must never become a consumer's dependency.
    private static readonly string[] BuildOnly = ["MinVer", "Microsoft.CodeAnalysis.PublicApiAnalyzers", "Meziantou.Analyzer", "Roslynator.Analyzers"];

    [Fact]
    public void The_feed_holds_the_libraries_and_the_tool_and_nothing_else_at_one_version()
    {
        string[] expected = [.. PackageFeed.Libraries, PackageFeed.Tool];
        Assert.Equal(expected.Order(StringComparer.Ordinal), feed.Packages.Keys.Order(StringComparer.Ordinal));
        Assert.True(PackageFeed.IsSemVer(feed.Version), $"'{feed.Version}' is not a SemVer version");
    }

    [Fact]
    public async Task Every_package_has_license_readme_tags_repository_and_description()
    {
        var head = (await Repo.RunAsync("git", ["rev-parse", "HEAD"], Repo.Root, TimeSpan.FromSeconds(30))).Stdout.Trim();
        foreach (var (id, file) in feed.Packages)
        {
            var nuspec = PackageFeed.Nuspec(file);
            Assert.Equal("expression:MIT", nuspec.License);
            Assert.Equal("README.md", nuspec.Readme);
            Assert.Contains("README.md", nuspec.Files);
            Assert.False(string.IsNullOrWhiteSpace(nuspec.Tags), id + ": no tags");
            Assert.False(string.IsNullOrWhiteSpace(nuspec.Description), id + ": no description");
            Assert.Equal("The Aether authors", nuspec.Authors);
            Assert.Equal("git", nuspec.RepositoryType);
            Assert.Equal(head, nuspec.RepositoryCommit);
            Assert.DoesNotContain(nuspec.Dependencies, d => BuildOnly.Contains(d, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Libraries_carry_their_assembly_and_its_documentation_and_depend_on_each_other_by_package()
    {
        foreach (var id in PackageFeed.Libraries)
        {
            var nuspec = PackageFeed.Nuspec(feed.Packages[id]);
            Assert.Contains($"lib/net10.0/{id}.dll", nuspec.Files);
            Assert.Contains($"lib/net10.0/{id}.xml", nuspec.Files);
            Assert.DoesNotContain(nuspec.PackageTypes, t => t != "Dependency");
        }

        // The project references became package dependencies (the consumer test restores them transitively).
        Assert.Equal(
            ["Aether.Netlink", "Aether.Nftables", "Aether.Ovsdb", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Logging.Abstractions"],
            PackageFeed.Nuspec(feed.Packages["Aether.Reconcile"]).Dependencies.Order(StringComparer.Ordinal));
        Assert.Contains("Aether.Reconcile", PackageFeed.Nuspec(feed.Packages["Aether.Topology"]).Dependencies);
        Assert.Contains("Aether.Reconcile", PackageFeed.Nuspec(feed.Packages["Aether.WireGuard"]).Dependencies);
        Assert.Equal(["Aether.Netlink"], PackageFeed.Nuspec(feed.Packages["Aether.Nftables"]).Dependencies);
    }

    [Fact]
    public void The_tool_package_is_a_dotnet_tool_named_aether()
    {
        var nuspec = PackageFeed.Nuspec(feed.Packages[PackageFeed.Tool]);

        Assert.Equal(["DotnetTool"], nuspec.PackageTypes);
        Assert.Contains("tools/net10.0/any/aether.dll", nuspec.Files);
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", nuspec.Files);
        Assert.Empty(nuspec.Dependencies);
    }
}
