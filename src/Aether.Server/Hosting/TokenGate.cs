using System.Security.Cryptography;
using System.Text;
using Aether.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Aether.Server;

/// <summary>
/// Requests over TCP must carry <c>Authorization: Bearer TOKEN</c>; requests over the unix socket need none (its mode,
/// 0600, lets only root connect). A request is judged by its connection: one with an IP address is TCP. The token is
/// compared in constant time (SHA-256 of both sides, then <see cref="CryptographicOperations.FixedTimeEquals"/>, so
/// neither the content nor the length leaks through timing). A gRPC call (<c>application/grpc</c>) is refused with
/// gRPC's status UNAUTHENTICATED and the same message; any other request with a 401 problem.
/// </summary>
internal sealed class TokenGate
{
    private readonly byte[]? _hash;

    /// <summary>Creates the gate.</summary>
    /// <param name="token">The token, or null when the daemon listens on the unix socket only.</param>
    public TokenGate(string? token) => _hash = token is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Connection.LocalIpAddress is null && context.Connection.RemoteIpAddress is null)
        {
            return next(context); // the unix socket
        }

        if (IsPublic(context.Request))
        {
            return next(context); // the web view's page and assets: no data in them
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return RefuseAsync(context, "requests over TCP need Authorization: Bearer TOKEN (the token in the daemon's --token-file)");
        }

        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return _hash is not null && CryptographicOperations.FixedTimeEquals(given, _hash)
            ? next(context)
            : RefuseAsync(context, "the bearer token is not the daemon's");
    }

    /// <summary>Whether <paramref name="request"/> asks for the web view's page or assets (<c>GET</c> or <c>HEAD</c> of
    /// <c>/ui</c>, <c>/ui/...</c>): static files holding no data, which the page needs before it can ask for the token.
    /// Their data comes from <c>/v1</c>, which needs the token.</summary>
    public static bool IsPublic(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && (request.Path.Equals(Ui.UiAssets.Path, StringComparison.Ordinal) || request.Path.StartsWithSegments(Ui.UiAssets.Path, StringComparison.Ordinal));

    private static Task RefuseAsync(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        if (context.Request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            // A gRPC call is refused as gRPC refuses one: a trailers-only response with UNAUTHENTICATED (16).
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "16";
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(detail);
            return Task.CompletedTask;
        }

        return Problems.Unauthorized(detail).ExecuteAsync(context);
    }

    /// <summary>The shortest token taken, in bytes (after surrounding whitespace is removed): 32 bytes, 256 bits if
    /// random.</summary>
    public const int MinimumLength = 32;

    /// <summary>The largest token file read, in bytes.</summary>
    public const int MaximumFileSize = 4096;

    /// <summary>Reads the token file: its content without surrounding whitespace, at least <see cref="MinimumLength"/>
    /// bytes, from a file that group and others cannot read (mode 0600 or 0400).</summary>
    /// <exception cref="ServerOptionsException">It cannot be read, is readable by others, too short or too long.</exception>
    public static string ReadToken(string path)
    {
        byte[] bytes;
        int length;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var mode = File.GetUnixFileMode(handle);
            const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((mode & others) != UnixFileMode.None)
            {
                throw new ServerOptionsException(
                    $"--token-file {path}: mode {Convert.ToString((int)mode, 8)} lets group or others at the token: it must be 0600 or 0400 (chmod 600 {path})");
            }

            bytes = new byte[MaximumFileSize + 1];
            length = 0;
            int n;
            while (length < bytes.Length && (n = RandomAccess.Read(handle, bytes.AsSpan(length), length)) > 0)
            {
                length += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerOptionsException($"--token-file {path}: {e.Message}", e);
        }

        if (length > MaximumFileSize)
        {
            throw new ServerOptionsException($"--token-file {path}: the file is over {MaximumFileSize} bytes: it must hold the token only");
        }

        var text = Encoding.UTF8.GetString(bytes, 0, length).Trim();
        var size = Encoding.UTF8.GetByteCount(text);
        return size >= MinimumLength
            ? text
            : throw new ServerOptionsException(
                $"--token-file {path}: the token is {size} bytes: it must be at least {MinimumLength} (head -c 32 /dev/urandom | base64 > {path})");
    }
}
