namespace Aether.Netlink.Tests.Units;

internal static class Rejects
{
    /// <summary>Asserts <paramref name="validate"/> throws <see cref="ArgumentException"/> naming the property and quoting the value.</summary>
    public static void With(Action validate, string property, string value)
    {
        var error = Assert.ThrowsAny<ArgumentException>(validate);
        Assert.Equal(property, error.ParamName);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }
}
