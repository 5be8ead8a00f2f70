using System.Globalization;

namespace Aether.WireGuard.Tests.Integration;

/// <summary><c>wg show NAME dump</c> parsed: the oracle's view of a device (wg reads the UAPI socket itself).</summary>
internal sealed record WgShow(string PrivateKey, string PublicKey, int ListenPort, string FwMark, IReadOnlyList<WgShowPeer> Peers)
{
    public static async Task<WgShow> ReadAsync(string device)
    {
        var lines = (await Wg.RequireAsync(null, "show", device, "dump")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var head = lines[0].Split('\t');
        var peers = lines.Skip(1).Select(l => l.Split('\t')).Select(f => new WgShowPeer(
            f[0],
            f[1],
            f[2],
            f[3] == "(none)" ? [] : f[3].Split(','),
            long.Parse(f[4], CultureInfo.InvariantCulture),
            ulong.Parse(f[5], CultureInfo.InvariantCulture),
            ulong.Parse(f[6], CultureInfo.InvariantCulture),
            f[7])).ToArray();
        return new WgShow(head[0], head[1], int.Parse(head[2], CultureInfo.InvariantCulture), head[3], peers);
    }
}

/// <summary>One peer line of <c>wg show dump</c>: public key, preshared key, endpoint, allowed IPs, latest handshake
/// (Unix seconds, 0 for never), bytes received, bytes sent, persistent keepalive ("off" or seconds).</summary>
internal sealed record WgShowPeer(string PublicKey, string PresharedKey, string Endpoint, string[] AllowedIps, long LatestHandshake, ulong Received, ulong Sent, string Keepalive);
