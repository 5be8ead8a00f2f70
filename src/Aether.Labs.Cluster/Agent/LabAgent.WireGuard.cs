using Aether.WireGuard;

namespace Aether.Labs.Cluster.Agent;

/// <summary>The host's WireGuard key and the lab's tunnels from here (<c>transport: wireguard</c>).</summary>
public sealed partial class LabAgent
{
    private WireGuardSecretKey? _hostKey;

    /// <summary>The file of this host's WireGuard private key: <c>STATE/wireguard/host.key</c>, mode 0600, made
    /// when the agent first starts and kept, so the host's public key (which the agent registers) survives
    /// restarts.</summary>
    public string HostKeyFile => Path.Combine(_options.StateDirectory, "wireguard", "host.key");

    /// <summary>This host's WireGuard public key (what <see cref="RunAsync"/> registers), its private key read from
    /// <see cref="HostKeyFile"/> or made there.</summary>
    /// <exception cref="InvalidOperationException">The key file is readable by others (the message says
    /// <c>chmod 600</c>), or is no key.</exception>
    public WireGuardKey HostPublicKey() => HostKey().GetPublicKey();

    /// <summary>This host's private key, read (or made) once.</summary>
    /// <exception cref="InvalidOperationException">The key file is readable by others, or is no key.</exception>
    private WireGuardSecretKey HostKey()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the agent runs on Linux");
        }

        return _hostKey ??= WireGuardKeyFile.ReadOrCreate(HostKeyFile, "this host's WireGuard private key");
    }

    /// <summary>The hosts a <c>transport: wireguard</c> link of <paramref name="lab"/> leads to from this one: one
    /// tunnel each.</summary>
    private IEnumerable<HostId> TunnelRemotes(LabSpec lab) =>
        ClusterLabs.WireGuardPairs(lab).Where(p => p.Item1 == _options.Host || p.Item2 == _options.Host)
            .Select(p => p.Item1 == _options.Host ? p.Item2 : p.Item1);

    /// <summary>The names of <paramref name="lab"/>'s tunnel devices on this host.</summary>
    private IEnumerable<string> TunnelDevices(LabSpec lab) =>
        TunnelRemotes(lab).Select(remote => CrossHostWireGuard.DeviceName(lab.Name, _options.Host, remote));

    /// <summary>What the compile needs for <paramref name="lab"/>'s links carried by WireGuard from this host: the
    /// host's key, the hosts' public keys and the slots of this host's tunnels; null when no such link ends
    /// here.</summary>
    private async Task<HostWireGuard?> WireGuardOfAsync(LabSpec lab, IReadOnlyList<HostStatus> hosts, CancellationToken cancellationToken)
    {
        var here = _options.Host;
        if (!TunnelRemotes(lab).Any())
        {
            return null;
        }

        var slots = new Dictionary<HostId, int>();
        foreach (var tunnel in await _cluster.ListWireGuardTunnelsAsync(lab.Name, cancellationToken).ConfigureAwait(false))
        {
            if (tunnel.RemoteOf(here) is { } remote)
            {
                slots[remote] = tunnel.Slot;
            }
        }

        var keys = hosts.Where(h => h.WireGuardKey is not null).ToDictionary(h => h.Id, h => h.WireGuardKey!.Value);
        return new HostWireGuard(HostKey(), keys, slots);
    }
}
