using System.Diagnostics;

namespace Aether.Packaging.Tests;

/// <summary>The CLI's dotnet tool package installed from the folder feed: <c>aether --version</c> prints the
/// package's version with the commit it was built from, and the daemon in it (what <c>/v1/status</c> reports as its
/// version) says the same.</summary>
[Collection(PackageFeedCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ToolTests(PackageFeed feed)
{
    [Fact]
    public async Task The_installed_tool_prints_the_package_version()
    {
        var tools = Path.Combine(feed.Scratch, "tools");
        await Repo.DotnetAsync(feed.Scratch, TimeSpan.FromMinutes(2),
            "tool", "install", PackageFeed.Tool, "--version", feed.Version, "--tool-path", tools, "--add-source", feed.Folder);

        var version = await Repo.RunAsync(Path.Combine(tools, "aether"), ["--version"], feed.Scratch, TimeSpan.FromSeconds(60));

        Assert.True(version.Code == 0, version.ToString());
        var commit = PackageFeed.Nuspec(feed.Packages[PackageFeed.Tool]).RepositoryCommit;
        Assert.Equal($"{feed.Version}+{commit}\n", version.Stdout);

        var server = Directory.GetFiles(Path.Combine(tools, ".store"), "Aether.Server.dll", SearchOption.AllDirectories);
        Assert.Equal($"{feed.Version}+{commit}", FileVersionInfo.GetVersionInfo(Assert.Single(server)).ProductVersion);
    }
}
