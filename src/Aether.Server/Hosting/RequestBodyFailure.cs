using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Aether.Server.Api;

namespace Aether.Server;

/// <summary>
/// A request body Kestrel could not read (a chunk size that is not hex or overflows, a body cut short) surfaces in a
/// handler as <see cref="BadHttpRequestException"/> or, for some malformed chunk sizes, as a plain
/// <see cref="IOException"/> thrown by Kestrel's chunked-body parser. Both are the client's fault: answered with
/// 400 (or the status Kestrel chose, 413 for a body over its limit) naming the body, never 500.
/// </summary>
internal sealed class RequestBodyFailure : IExceptionHandler
{
    /// <inheritdoc/>
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var status = exception switch
        {
            BadHttpRequestException bad => bad.StatusCode,
            IOException io when FromKestrel(io) => StatusCodes.Status400BadRequest,
            _ => 0,
        };
        if (status == 0 || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        var result = status == StatusCodes.Status400BadRequest
            ? Problems.Invalid("body", $"the request body could not be read: {exception.Message}")
            : TypedResults.Problem(statusCode: status, detail: $"body: {exception.Message}");
        await result.ExecuteAsync(httpContext).ConfigureAwait(false);
        return true;
    }

    private static bool FromKestrel(IOException e) =>
        e.TargetSite?.DeclaringType?.Namespace?.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) == true;
}
