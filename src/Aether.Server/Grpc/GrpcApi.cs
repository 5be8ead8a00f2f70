using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aether.Server.Grpc;

/// <summary>
/// The gRPC API (<c>aether.wireguard.v1.WireGuardService</c>, <c>Protos/wireguard.proto</c>) on the daemon's
/// listeners beside REST: Kestrel speaks HTTP/1.1 and HTTP/2 on both (h2c with prior knowledge, as gRPC clients
/// connect without TLS), and the token gate runs before it as before any REST route.
/// </summary>
internal static class GrpcApi
{
    /// <summary>The largest request message taken, in bytes (64 KiB, as the REST body of a network); a larger one
    /// ends with RESOURCE_EXHAUSTED before the service runs.</summary>
    public const int MaxReceiveMessageBytes = 64 * 1024;

    /// <summary>Adds gRPC's services.</summary>
    public static void AddServices(IServiceCollection services) =>
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxReceiveMessageBytes;
            o.EnableDetailedErrors = false;

            // Without this, gRPC maps a catch-all "{service}/{method}" route for unknown services, which also matches
            // REST paths such as POST /v1/labs and turns their 415 (wrong content type) into a 404. An unknown method
            // of our own service is still answered UNIMPLEMENTED; an unknown service gets HTTP 404, which gRPC
            // clients read as UNIMPLEMENTED too.
            o.IgnoreUnknownServices = true;
        });

    /// <summary>Maps the service.</summary>
    public static void Map(IEndpointRouteBuilder app) => app.MapGrpcService<WireGuardGrpcService>();
}
