using Aether.Hub;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aether.Server.Tests;

/// <summary>
/// The daemon's app (<see cref="AetherServer.BuildApp"/>, exactly as <c>aether serve</c> builds it) on a test server,
/// with a <see cref="FakeHub"/> and a store in memory. The app is a built <c>WebApplication</c> rather than an entry
/// point's host, so the factory is handed a placeholder builder and creates the host itself.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<ApiFactory>
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aether-api-").FullName;

    public FakeHub Hub { get; } = new();

    protected override IHostBuilder CreateHostBuilder() => new HostBuilder();

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var app = AetherServer.BuildApp(new ServerOptions
        {
            SocketPath = Path.Combine(_dir, "never.sock"),
            DatabasePath = Path.Combine(_dir, "never.db"),
            Hub = (_, _) => Task.FromResult<IWireGuardHub>(Hub),
            Version = "test",
            ConfigureBuilder = b =>
            {
                b.WebHost.UseTestServer();
                b.Services.AddSingleton<IHubStore>(new InMemoryHubStore());
            },
        });
        app.Start();
        return app;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
