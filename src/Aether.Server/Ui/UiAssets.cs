using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Aether.Server.Ui;

/// <summary>
/// <c>/ui</c>: the web view's page and assets, built from <c>src/Aether.Server/web</c> by the project's build (Vite) and
/// embedded in this assembly (<see cref="ManifestEmbeddedFileProvider"/>), so the daemon serves them itself, offline.
/// They hold no data and are served without the token (<see cref="TokenGate.IsPublic"/>): the page asks for the token
/// and sends it with every data request. Assets with a content hash in their names are cached for a year; the page
/// is revalidated every time. Every answer forbids framing and loading anything from elsewhere.
/// </summary>
internal static class UiAssets
{
    /// <summary>The path the view is served under.</summary>
    public const string Path = "/ui";

    private const string Policy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly Lazy<IFileProvider?> Files = new(() =>
    {
        try
        {
            return new ManifestEmbeddedFileProvider(typeof(UiAssets).Assembly, "web/dist");
        }
        catch (InvalidOperationException)
        {
            return null; // built without the view (AetherSkipUi)
        }
    });

    private static readonly FileExtensionContentTypeProvider Types = new();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (HttpContext http) => ServeAsync(http, "index.html")).ExcludeFromDescription();
        app.MapGet(Path + "/{**file}", (HttpContext http, string? file) => ServeAsync(http, string.IsNullOrEmpty(file) ? "index.html" : file)).ExcludeFromDescription();
    }

    private static async Task ServeAsync(HttpContext http, string file)
    {
        var response = http.Response;
        response.Headers.ContentSecurityPolicy = Policy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (Files.Value is not { } files)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("this daemon was built without its web view (AetherSkipUi=true)\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        var info = file.Contains("..", StringComparison.Ordinal) ? null : files.GetFileInfo(file);
        if (info is not { Exists: true, IsDirectory: false })
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        response.ContentType = Types.TryGetContentType(info.Name, out var type) ? type : "application/octet-stream";
        response.Headers.CacheControl = file.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
        response.ContentLength = info.Length;
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        await using var stream = info.CreateReadStream();
        await stream.CopyToAsync(response.Body, http.RequestAborted).ConfigureAwait(false);
    }
}
