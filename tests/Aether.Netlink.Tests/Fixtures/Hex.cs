using System.Text;

namespace Aether.Netlink.Tests.Fixtures;

/// <summary>Hex text to bytes and back. Whitespace is ignored, and so is everything from '#' to the end of a line.</summary>
internal static class Hex
{
    public static byte[] Parse(string text)
    {
        var digits = new StringBuilder(text.Length);
        foreach (var line in text.Split('\n'))
        {
            var hash = line.IndexOf('#');
            foreach (var c in hash < 0 ? line : line[..hash])
            {
                if (!char.IsWhiteSpace(c))
                {
                    digits.Append(c);
                }
            }
        }

        return Convert.FromHexString(digits.ToString());
    }

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Loads a <c>Fixtures/*.hex</c> file copied beside the test assembly.</summary>
    public static byte[] Load(string fileName) =>
        Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName)));
}
