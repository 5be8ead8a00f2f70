using System.Text.RegularExpressions;

namespace Aether.Labs.Store;

/// <summary>The rule an older store's interface names are normalized by when no profile knows them.</summary>
public static partial class InterfaceNames
{
    /// <summary>The reference's rule: the first run of digits makes <c>ethN</c> (<c>Ethernet1</c> → <c>eth1</c>,
    /// <c>GigabitEthernet0/0</c> → <c>eth0</c>, <c>eth3</c> → <c>eth3</c>); a name without digits stays as it is.
    /// The kind is not consulted.</summary>
    /// <param name="kind">The node's device kind (unused by this rule).</param>
    /// <param name="name">The interface as written.</param>
    public static string DefaultLinuxName(string kind, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var digits = FirstDigits().Match(name);
        return digits.Success ? "eth" + digits.Value : name;
    }

    [GeneratedRegex("[0-9]+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FirstDigits();
}
