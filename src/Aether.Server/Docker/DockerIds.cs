namespace Aether.Server.Docker;

/// <summary>Docker's network and endpoint ids as the driver accepts them: the hub's id rule (1-64 of
/// <c>A-Z a-z 0-9 . _ -</c>), which docker's 64 hex digits meet, so an id is used as it is for the hub's network and
/// attachment.</summary>
internal static class DockerIds
{
    /// <summary>Whether <paramref name="id"/> is usable.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: >= 1 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
