using System.Security.Cryptography;
using System.Text;
using Aether.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Aether.Server;

/// <summary>
/// Requests over TCP must carry <c>Authorization: Bearer TOKEN</c>; requests over the unix socket need none (its mode,
/// 0600, lets only root connect). A request is judged by its connection: one with an IP address is TCP. The token is
/// compared in constant time (SHA-256 of both sides, then <see cref="CryptographicOperations.FixedTimeEquals"/>, so
/// neither the content nor the length leaks through timing).
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

    private static Task RefuseAsync(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized(detail).ExecuteAsync(context);
    }

    /// <summary>Reads the token file: its content without surrounding whitespace, which must not be empty.</summary>
    /// <exception cref="ServerOptionsException">It cannot be read or is empty.</exception>
    public static string ReadToken(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerOptionsException($"--token-file {path}: {e.Message}", e);
        }

        return text.Length > 0 ? text : throw new ServerOptionsException($"--token-file {path}: the file is empty");
    }
}
