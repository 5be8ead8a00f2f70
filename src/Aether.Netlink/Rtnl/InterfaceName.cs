using System.Text;
using Aether.Netlink.Names;

namespace Aether.Netlink.Rtnl;

/// <summary>Rules the kernel applies to interface names (<c>dev_valid_name</c>), checked before any syscall, and
/// <c>%</c>, which the kernel expands as a template (<c>eth%d</c> becomes <c>eth0</c>) so that no interface is ever
/// named with it. Where names enter from files and requests, <see cref="InterfaceNameRule"/> is stricter.</summary>
public static class InterfaceName
{
    /// <summary><c>IFNAMSIZ - 1</c>: the longest name in bytes.</summary>
    public const int MaxLength = 15;

    /// <summary>Throws <see cref="ArgumentException"/> naming the value when the kernel would refuse it.</summary>
    public static void Validate(string? name, string paramName = "name")
    {
        if (!IsValid(name, out var why))
        {
            throw new ArgumentException($"invalid interface name {NameText.Quote(name)}: {why}", paramName);
        }
    }

    /// <summary>Whether the kernel would accept <paramref name="name"/>, and if not, why.</summary>
    public static bool IsValid(string? name, out string? why)
    {
        why = name switch
        {
            null or "" => "empty",
            "." or ".." => "'.' and '..' are reserved",
            _ when Encoding.UTF8.GetByteCount(name) > MaxLength => $"{Encoding.UTF8.GetByteCount(name)} bytes, the limit is {MaxLength}",
            _ when name.Contains('/', StringComparison.Ordinal) => "contains '/'",
            _ when name.Contains(':', StringComparison.Ordinal) => "contains ':'",
            _ when name.Contains('%', StringComparison.Ordinal) => "contains '%', which the kernel reads as a template (eth%d becomes eth0)",
            _ when HasWhiteSpaceOrNul(name) => "contains whitespace or NUL",
            _ => null,
        };
        return why is null;
    }

    /// <summary>Whether <paramref name="text"/> holds whitespace or NUL (a loop: validation must not pull in LINQ).</summary>
    internal static bool HasWhiteSpaceOrNul(string text)
    {
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c == '\0')
            {
                return true;
            }
        }

        return false;
    }
}
