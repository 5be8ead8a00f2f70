using System.Diagnostics;
using Aether.Server.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aether.Server;

/// <summary>Counts every request and its duration by method, route template (not the path: ids would make a series
/// each) and status code. Every label comes from a fixed set, whatever a client sends (it may have no token): the
/// method is one of HTTP's own or <c>OTHER</c>, the route one of the app's templates or <c>(unmatched)</c>, the status
/// a three-digit code.</summary>
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
            metrics.Request(Method(context.Request.Method), route, status is >= 100 and <= 599 ? status : 0, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The method as a label: HTTP's own methods as themselves, any other <c>OTHER</c>.</summary>
    public static string Method(string method) =>
        HttpMethods.GetCanonicalizedValue(method) is var known && (HttpMethods.IsGet(known) || HttpMethods.IsPost(known) || HttpMethods.IsPut(known)
            || HttpMethods.IsDelete(known) || HttpMethods.IsPatch(known) || HttpMethods.IsHead(known) || HttpMethods.IsOptions(known)
            || HttpMethods.IsTrace(known) || HttpMethods.IsConnect(known))
            ? known
            : "OTHER";
}
