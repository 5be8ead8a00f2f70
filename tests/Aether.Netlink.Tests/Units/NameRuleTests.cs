using System.Text;
using Aether.Netlink.Names;

namespace Aether.Netlink.Tests.Units;

/// <summary>The rules for names where they enter: the allowed set, each refused class with its reason, lengths in
/// bytes, and messages safe to print.</summary>
public class NameRuleTests
{
    [Theory]
    [InlineData("eth0")]
    [InlineData("a23456789012345")]
    [InlineData("eth0.100")]
    [InlineData("e1-1_a")]
    [InlineData("0")]
    [InlineData("Ethernet1")]
    public void Interface_names_in_the_set_are_accepted(string name) => Assert.True(InterfaceNameRule.IsValid(name, out var why), why);

    [Theory]
    [InlineData("eth%d", "'%' (U+0025)", "template")]
    [InlineData("eth*", "'*' (U+002A)", "wildcard")]
    [InlineData("{a,b}", "'{' (U+007B)", "set")]
    [InlineData("$x", "'$' (U+0024)", "variable")]
    [InlineData("a@b", "'@' (U+0040)", "named set")]
    [InlineData("a\"b", "'\"' (U+0022)", "quote")]
    [InlineData("a'b", "''' (U+0027)", "quote")]
    [InlineData("a\\b", "'\\' (U+005C)", "backslash")]
    [InlineData("a/b", "'/' (U+002F)", "the kernel refuses it")]
    [InlineData("a:b", "':' (U+003A)", "address label")]
    [InlineData("a b", "' ' (U+0020)", "whitespace")]
    [InlineData("a\u00a0b", "U+00A0", "does not print as itself")]
    [InlineData("a\u001bb", "U+001B", "terminal escape")]
    [InlineData("a\nb", "U+000A", "line break")]
    [InlineData("a\0b", "U+0000", "NUL")]
    [InlineData("a\u007fb", "U+007F", "control character")]
    [InlineData("a\u0085b", "U+0085", "control character")]
    [InlineData("a\u202eb", "U+202E", "bidi")]
    [InlineData("a\u200bb", "U+200B", "zero-width")]
    [InlineData("a\u2066b", "U+2066", "bidi")]
    [InlineData("\u0435th0", "'е' (U+0435)", "only ASCII")]
    [InlineData("-a", "'-' at the start", "option")]
    [InlineData(".", "'.' is refused", "directory")]
    [InlineData("", "empty", "empty")]
    public void Interface_names_outside_the_set_say_which_character_and_why(string name, string which, string why)
    {
        Assert.False(InterfaceNameRule.IsValid(name, out var message));
        Assert.Contains(which, message, StringComparison.Ordinal);
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.EndsWith("; allowed: " + InterfaceNameRule.Allowed, message, StringComparison.Ordinal);
        Assert.DoesNotContain(message.EnumerateRunes(), r => !NameText.IsPrintable(r));
        var thrown = Assert.Throws<ArgumentException>(() => InterfaceNameRule.Validate(name, "out"));
        Assert.Equal("out", thrown.ParamName);
    }

    [Fact]
    public void A_lone_surrogate_is_no_character()
    {
        // Built here: theory data would pass through UTF-8 and arrive as U+FFFD.
        var name = "a" + (char)0xD800 + "b";
        Assert.False(InterfaceNameRule.IsValid(name, out var message));
        Assert.Contains("'a\\uD800b': a lone UTF-16 surrogate (U+D800)", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abcdefghijklmnop", "16 bytes; the limit is 15")]
    [InlineData("ééééééé1", "'é' (U+00E9) is not allowed")] // 15 bytes: within the length, outside the set
    [InlineData("éééééééé", "16 bytes in UTF-8 (8 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("\U0001F600\U0001F600\U0001F600\U0001F600", "16 bytes in UTF-8 (8 UTF-16 characters)")]
    public void Interface_name_lengths_are_bytes(string name, string why)
    {
        Assert.False(InterfaceNameRule.IsValid(name, out var message));
        Assert.Contains(why, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Namespace_names_follow_the_same_set_in_255_bytes()
    {
        Assert.True(NamespaceNameRule.IsValid(new string('n', 255), out _));
        Assert.True(NamespaceNameRule.IsValid("my.ns-1_a", out _));
        Assert.False(NamespaceNameRule.IsValid(new string('n', 256), out var tooLong));
        Assert.Contains("256 bytes; the limit is 255", tooLong, StringComparison.Ordinal);
        Assert.False(NamespaceNameRule.IsValid("a/b", out var slash));
        Assert.Contains("/run/netns/NAME", slash, StringComparison.Ordinal);
        Assert.False(NamespaceNameRule.IsValid("..", out _));
        Assert.False(NamespaceNameRule.IsValid("ns\u202e", out var bidi));
        Assert.EndsWith("allowed: " + NamespaceNameRule.Allowed, bidi, StringComparison.Ordinal);
        Assert.Equal(15, Encoding.UTF8.GetByteCount("ééééééé1"));
    }
}
