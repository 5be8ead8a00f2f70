using System.Security.Cryptography;
using System.Text;

namespace Aether.Cni;

/// <summary>
/// The hub attachment that stands for one (container, interface) pair: the first 23 characters of
/// <c>CNI_CONTAINERID</c>, <c>-</c>, and the first 40 hex digits (160 bits) of SHA-256 over
/// <c>CNI_CONTAINERID</c> + <c>"\n"</c> + <c>CNI_IFNAME</c>. At most 64 characters of <c>A-Za-z0-9._-</c> (the hub's
/// rule), the same on every call for the same pair (so ADD, CHECK and DEL find it), readable by its prefix, and two
/// pairs never share one (the separator cannot occur in either part, and the hash covers both whole).
/// </summary>
public static class AttachmentId
{
    /// <summary>How many characters of the container id lead the id.</summary>
    public const int PrefixLength = 23;

    /// <summary>The attachment id of <paramref name="containerId"/>'s <paramref name="ifName"/>.</summary>
    public static string For(string containerId, string ifName)
    {
        ArgumentNullException.ThrowIfNull(containerId);
        ArgumentNullException.ThrowIfNull(ifName);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(containerId + "\n" + ifName));
        var prefix = containerId.Length > PrefixLength ? containerId[..PrefixLength] : containerId;
        return prefix + "-" + Convert.ToHexStringLower(hash)[..40];
    }
}
