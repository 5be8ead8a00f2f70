using System.Globalization;

namespace Aether.Cli;

/// <summary>Durations as people write them: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>.</summary>
internal static class Duration
{
    /// <summary>Parses <paramref name="text"/>; false (with why) when it is not a positive duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        var s = text?.Trim() ?? string.Empty;
        var digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
        {
            digits++;
        }

        var unit = s[digits..];
        if (digits == 0 || !long.TryParse(s.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 1_000_000_000)
        {
            error = $"'{text}' is not a duration: write a positive whole number with a unit (500ms, 30s, 2m, 1h)";
            return false;
        }

        switch (unit)
        {
            case "ms":
                value = TimeSpan.FromMilliseconds(n);
                return true;
            case "s":
                value = TimeSpan.FromSeconds(n);
                return true;
            case "m":
                value = TimeSpan.FromMinutes(n);
                return true;
            case "h":
                value = TimeSpan.FromHours(n);
                return true;
            default:
                error = $"'{text}' has no known unit: use ms, s, m or h (500ms, 30s, 2m, 1h)";
                return false;
        }
    }
}
