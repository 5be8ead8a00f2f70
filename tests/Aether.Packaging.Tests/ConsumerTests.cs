namespace Aether.Packaging.Tests;

/// <summary>
/// A fresh console project, made in a temp directory outside the repository, that references Aether.Netlink and
/// Aether.Topology by package from the folder feed (with nuget.org for everything else), builds and runs: it opens a
/// netlink handle and reads the loopback link, and loads a topology. Its packages are restored into a packages
/// folder of its own, so they can only have come from the feed.
/// </summary>
[Collection(PackageFeedCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConsumerTests(PackageFeed feed)
{
    private const string Program = """
        using Aether.Netlink;
        using Aether.Topology;

        using var handle = NetlinkHandle.Open();
        var lo = await handle.GetLinkAsync("lo");
        Console.WriteLine($"link {lo.Name} index {lo.Index}");

        var loaded = TopologyLoader.Parse("name: t\nnamespaces:\n  - name: aetpkg-a\n  - name: aetpkg-b\n", "t.yaml");
        Console.WriteLine($"topology valid {loaded.IsValid} namespaces {string.Join(",", loaded.Topology!.Namespaces.Select(n => n.Name))}");
        """;

    [Fact]
    public async Task A_console_project_builds_and_runs_against_the_packages()
    {
        var dir = Directory.CreateDirectory(Path.Combine(feed.Scratch, "consumer")).FullName;
        var packages = Path.Combine(feed.Scratch, "consumer-packages");
        var userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
              <packageSources>
                <clear />
                <add key="aether" value="{feed.Folder}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <!-- What is already on this machine (YamlDotNet, Microsoft.Extensions.*) is not downloaded again. -->
              <fallbackPackageFolders>
                <add key="user" value="{userPackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(dir, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Aether.Netlink" Version="[{feed.Version}]" />
                <PackageReference Include="Aether.Topology" Version="[{feed.Version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), Program);

        await Repo.DotnetAsync(dir, TimeSpan.FromMinutes(3), "build", "-c", "Release", "-o", Path.Combine(dir, "out"), "-nologo", "--disable-build-servers");
        var run = await Repo.RunAsync("dotnet", [Path.Combine(dir, "out", "consumer.dll")], dir, TimeSpan.FromSeconds(60));

        Assert.True(run.Code == 0, run.ToString());
        var loopback = File.ReadAllText("/sys/class/net/lo/ifindex").Trim();
        Assert.Equal($"link lo index {loopback}\ntopology valid True namespaces aetpkg-a,aetpkg-b\n", run.Stdout);

        // Restored from the feed into the project's own packages folder, the transitive ones too.
        foreach (var id in new[] { "Aether.Netlink", "Aether.Topology", "Aether.Reconcile", "Aether.Nftables", "Aether.Ovsdb" })
        {
            Assert.True(
                File.Exists(Path.Combine(packages, id.ToLowerInvariant(), feed.Version, $"{id.ToLowerInvariant()}.{feed.Version}.nupkg")),
                $"{id} {feed.Version} was not restored from the feed");
        }
    }
}
