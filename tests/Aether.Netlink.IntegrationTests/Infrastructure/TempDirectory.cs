namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>A temporary directory named after the test's token, deleted (with its contents) on dispose.</summary>
public sealed class TempDirectory(string token) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(token).FullName;

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
