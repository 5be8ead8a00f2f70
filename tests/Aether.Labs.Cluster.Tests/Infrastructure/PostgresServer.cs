namespace Aether.Labs.Cluster.Tests.Infrastructure;

/// <summary>One private PostgreSQL server per test class (xunit class fixture): started before the class's first
/// test, stopped and removed after its last, whatever they did. Each test takes a database of its own on it.</summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private PrivatePostgres? _server;

    public PrivatePostgres Server => _server ?? throw new InvalidOperationException("the server is not started");

    public async Task InitializeAsync() => _server = await PrivatePostgres.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
