using System.Diagnostics;
using Aether.Server.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server;

/// <summary>Counts every request and its duration by method, route template (not the path: ids would make a series
/// each) and status code.</summary>
internal sealed class RequestMetrics(ServerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            await next(context).ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
            metrics.Request(context.Request.Method, route, status, Stopwatch.GetElapsedTime(started));
        }
    }
}
