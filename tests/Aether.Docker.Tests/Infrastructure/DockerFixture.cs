using Aether.TestInfrastructure;
namespace Aether.Docker.Tests.Infrastructure;

/// <summary>One private dockerd for the tests of <see cref="DockerCollection"/> (they run one after another): starting
/// one takes seconds. Stopped and cleaned when the collection ends, also after failures.</summary>
public sealed class DockerFixture : IAsyncLifetime
{
    public PrivateDocker Docker { get; private set; } = null!;

    public async Task InitializeAsync() => Docker = await PrivateDocker.StartAsync();

    public async Task DisposeAsync() => await Docker.DisposeAsync();
}

/// <summary>The tests that share a private dockerd.</summary>
[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "private dockerd";
}
