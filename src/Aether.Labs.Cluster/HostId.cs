using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Aether.Labs.Cluster;

/// <summary>A host's identity in the cluster (<c>--host-id</c>): 1–32 of lowercase letters, digits, <c>_</c> and
/// <c>-</c>, starting with a letter or digit, like a lab's node names.</summary>
public readonly record struct HostId
{
    /// <summary>The longest host id.</summary>
    public const int MaxLength = 32;

    private HostId(string value) => Value = value;

    /// <summary>The id as text.</summary>
    public string Value { get; }

    /// <summary>Reads <paramref name="text"/> as a host id.</summary>
    /// <exception cref="ArgumentException">Not a valid host id; the message names the field and says what is allowed.</exception>
    public static HostId Parse(string? text, string field = "host id") =>
        TryParse(text, out var id, out var why) ? id : throw new ArgumentException($"{field} '{text}': {why}", field);

    /// <summary>Whether <paramref name="text"/> is a valid host id, and if not, why.</summary>
    public static bool TryParse(string? text, out HostId id, [NotNullWhen(false)] out string? why)
    {
        why = text switch
        {
            null or "" => "empty (1 to 32 of a-z, 0-9, '_' and '-')",
            _ when text.Length > MaxLength => string.Create(CultureInfo.InvariantCulture, $"{text.Length} characters, the limit is {MaxLength}"),
            _ when !(char.IsAsciiLetterLower(text[0]) || char.IsAsciiDigit(text[0])) => "must start with a lowercase letter or digit",
            _ when !text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-') => "may hold only lowercase letters, digits, '_' and '-'",
            _ => null,
        };
        id = why is null ? new HostId(text!) : default;
        return why is null;
    }

    /// <inheritdoc/>
    public override string ToString() => Value ?? "";
}
