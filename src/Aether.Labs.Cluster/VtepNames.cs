using System.Security.Cryptography;
using System.Text;

namespace Aether.Labs.Cluster;

/// <summary>
/// The name of a VTEP's port: <c>vxLLLL-REMOTE</c>, where <c>LLLL</c> is 4 hex digits of the SHA-256 of the lab's name
/// (two labs' ports to the same remote differ) and <c>REMOTE</c> the remote host's id when it fits in 15 bytes
/// (ids of up to 8 characters); a longer id is cut to its first 4 characters followed by 4 hex digits of its hash.
/// A host refuses two ports of one name (unique index on host and name), so a collision of the hashes fails the
/// attach instead of sharing a port.
/// </summary>
public static class VtepNames
{
    /// <summary>The kernel's limit on an interface name, in bytes (IFNAMSIZ − 1).</summary>
    public const int MaxLength = 15;

    /// <summary>The port name of lab <paramref name="lab"/>'s VTEP towards <paramref name="remote"/>.</summary>
    public static string PortName(string lab, HostId remote)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var prefix = "vx" + Hash4(lab) + "-";
        var id = remote.Value ?? throw new ArgumentException("remote host id: empty", nameof(remote));
        return prefix.Length + id.Length <= MaxLength ? prefix + id : prefix + id[..4] + Hash4(id);
    }

    private static string Hash4(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 2);
}
