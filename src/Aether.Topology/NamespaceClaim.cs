using Aether.Netlink.Namespaces;
using Aether.Reconcile;

namespace Aether.Topology;

/// <summary>What a topology's record says about a namespace (or the host).</summary>
internal enum ClaimKind
{
    /// <summary>It was about to create it (the intent, written before the kernel was touched). Proves nothing by
    /// itself: whether the namespace under that name is the one it made is read from the namespace's mark.</summary>
    Creating,

    /// <summary>It created it: the namespace with this identity, and no other.</summary>
    Created,

    /// <summary>It found it and put objects in it.</summary>
    Used,
}

/// <summary>
/// A topology's claim on a namespace, as its record keeps it (<c>created BOOT/COOKIE</c>, <c>used BOOT/COOKIE</c>,
/// <c>creating</c>). The identity is the kernel's (see <see cref="NamespaceIdentity"/>): a claim is about exactly one
/// namespace for its whole life, never about whatever carries its name later.
/// </summary>
/// <param name="Kind">Creating, created or used.</param>
/// <param name="Identity">The namespace the claim is about; null for <see cref="ClaimKind.Creating"/>.</param>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
internal readonly record struct NamespaceClaim(ClaimKind Kind, NamespaceIdentity? Identity)
{
    /// <summary>The intent to create, before the namespace exists.</summary>
    public static NamespaceClaim Intent => new(ClaimKind.Creating, null);

    /// <summary>The mark a topology's creations carry inside them (their loopback's alias).</summary>
    public static string MarkOf(string topology) => MarkPrefix + topology;

    /// <summary>The topology a creation mark names, or null when <paramref name="mark"/> is not one.</summary>
    public static string? CreatorIn(string? mark) =>
        mark is not null && mark.StartsWith(MarkPrefix, StringComparison.Ordinal) && mark.Length > MarkPrefix.Length ? mark[MarkPrefix.Length..] : null;

    /// <summary>Whether the claim is about the namespace <paramref name="identity"/> names.</summary>
    public bool IsAbout(NamespaceIdentity identity) => Identity == identity;

    /// <summary>The record's form.</summary>
    public AppliedEntry ToEntry() => new(Kind switch
    {
        ClaimKind.Creating => "creating",
        ClaimKind.Created => "created " + Identity,
        _ => "used " + Identity,
    });

    /// <summary>Reads a record entry; null for one this version does not know. A <c>created</c> without an identity
    /// (written before identities were kept) is only an intent.</summary>
    public static NamespaceClaim? Parse(AppliedEntry? entry)
    {
        var text = entry?.Value;
        if (text is null)
        {
            return null;
        }

        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var word = space < 0 ? text : text[..space];
        NamespaceIdentity? identity = space >= 0 && NamespaceIdentity.TryParse(text[(space + 1)..], out var id) ? id : null;
        return word switch
        {
            "created" when identity is not null => new NamespaceClaim(ClaimKind.Created, identity),
            "created" or "creating" => Intent,
            "used" when identity is not null => new NamespaceClaim(ClaimKind.Used, identity),
            _ => null,
        };
    }

    private const string MarkPrefix = "aether-netns:";
}
