namespace Aether.Server.Tests;

/// <summary>A strict reader of systemd unit files (systemd.syntax(7)): blank lines, comments (<c>#</c>, <c>;</c>),
/// <c>[Section]</c> headers, and <c>Key=Value</c> lines (a trailing backslash continues a value on the next line);
/// anything else fails the test. A key may repeat (its values are kept in order).</summary>
public sealed class UnitFile
{
    private readonly Dictionary<string, Dictionary<string, List<string>>> _sections = new(StringComparer.Ordinal);

    public static UnitFile Parse(string text)
    {
        var unit = new UnitFile();
        Dictionary<string, List<string>>? section = null;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                Assert.True(line[^1] == ']', $"line {i + 1}: a section header without its ']': {line}");
                var name = line[1..^1];
                Assert.False(unit._sections.ContainsKey(name), $"line {i + 1}: section [{name}] twice");
                section = unit._sections[name] = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                continue;
            }

            Assert.True(section is not null, $"line {i + 1}: a setting before any section: {line}");
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(equals > 0, $"line {i + 1}: not Key=Value: {line}");
            var key = line[..equals].Trim();
            Assert.Matches("^[A-Za-z][A-Za-z0-9]*$", key);
            var value = line[(equals + 1)..].Trim();
            while (value.EndsWith('\\') && i + 1 < lines.Length)
            {
                value = value[..^1] + " " + lines[++i].Trim();
            }

            (section.TryGetValue(key, out var values) ? values : section[key] = []).Add(value);
        }

        return unit;
    }

    public IReadOnlyCollection<string> Sections => _sections.Keys;

    /// <summary>The value of <paramref name="key"/> in <paramref name="section"/> (the last one when repeated); fails
    /// when it is not set.</summary>
    public string this[string section, string key] =>
        _sections.TryGetValue(section, out var s) && s.TryGetValue(key, out var v) ? v[^1] : throw new KeyNotFoundException($"[{section}] {key}= is not set");

    public bool Has(string section, string key) => _sections.TryGetValue(section, out var s) && s.ContainsKey(key);
}
