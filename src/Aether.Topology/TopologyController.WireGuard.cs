using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.WireGuard;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

/// <summary>WireGuard links: their devices and peers are the Devices stage, after the links their traffic leaves by
/// and before the addresses and routes on them. Private keys not given in the file are generated once and kept in the
/// state directory (mode 0600, in a directory of mode 0700), so a device keeps its public key across runs.</summary>
public sealed partial class TopologyController
{
    /// <summary>Where generated keys are kept: <c>STATE/NAME/wireguard</c>.</summary>
    private string KeyDirectory => Path.Combine(StatePath, "wireguard");

    /// <summary>Marks that this topology has made WireGuard devices: its Devices stage then runs in every scope (to
    /// remove a device taken out of the file), also when the file has no WireGuard link any more.</summary>
    private string WireGuardMarker => Path.Combine(KeyDirectory, "used");

    /// <summary>Whether the Devices stage has anything to do here: the file wants WireGuard somewhere, or it did.
    /// Asked once per scope, so both are looked up once: the marker is made only where the file wants WireGuard.</summary>
    private bool UsesWireGuard => WantsWireGuard || (_wireGuardMarked ??= File.Exists(WireGuardMarker));

    private bool WantsWireGuard => _wantsWireGuard ??= _topology.Links.Any(l => l.Kind == TopologyLinkKind.WireGuard);

    private bool? _wantsWireGuard;
    private bool? _wireGuardMarked;

    /// <summary>The file of a generated key: <c>wireguard/host/wg0.key</c>, <c>wireguard/netns-blue/wg0.key</c>.</summary>
    internal string GeneratedKeyPath(TopologyLink link) =>
        Path.Combine(KeyDirectory, link.Namespace is { } ns ? "netns-" + ns : "host", link.Name + ".key");

    /// <summary>The public key of a WireGuard link: from its given key, or from the generated one (null when none was
    /// generated yet).</summary>
    public WireGuardKey? PublicKeyOf(TopologyLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.WireGuard?.PrivateKey is { } given ? given.GetPublicKey() : ReadGeneratedKey(link)?.GetPublicKey();
    }

    /// <summary>The private key of a WireGuard link: given in the file, or generated and kept. A plan does not write:
    /// without a kept key it uses a throw-away one (the device is to be created, or to get a new key, either way).</summary>
    private WireGuardSecretKey PrivateKeyOf(TopologyLink link, bool create)
    {
        if (link.WireGuard?.PrivateKey is { } given)
        {
            return given;
        }

        if (ReadGeneratedKey(link) is { } kept)
        {
            return kept;
        }

        var key = WireGuardSecretKey.GeneratePrivate();
        if (create)
        {
            WriteGeneratedKey(link, key);
        }

        return key;
    }

    private WireGuardSecretKey? ReadGeneratedKey(TopologyLink link)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("WireGuard keys are kept on Linux only");
        }

        return WireGuardKeyFile.Read(GeneratedKeyPath(link), $"the generated private key of {link.Name}");
    }

    /// <summary>Writes a new key (<see cref="WireGuardKeyFile.Write"/>: 0600, synced, renamed into place), in
    /// directories of mode 0700.</summary>
    private void WriteGeneratedKey(TopologyLink link, WireGuardSecretKey key)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("WireGuard keys are kept on Linux only");
        }

        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(StatePath, owner);
        Directory.CreateDirectory(KeyDirectory, owner);
        File.SetUnixFileMode(KeyDirectory, owner);
        WireGuardKeyFile.Write(GeneratedKeyPath(link), key);
        MarkWireGuardUsed();
    }

    private void MarkWireGuardUsed()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("WireGuard keys are kept on Linux only");
        }

        if (!File.Exists(WireGuardMarker))
        {
            Directory.CreateDirectory(KeyDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(WireGuardMarker, "this topology has made WireGuard devices\n");
        }
    }

    /// <summary>The device a WireGuard link wants.</summary>
    private DesiredWireGuardDevice ToDesiredDevice(TopologyLink link, bool create)
    {
        var wg = link.WireGuard ?? new TopologyWireGuard();
        return new DesiredWireGuardDevice(link.Name, PrivateKeyOf(link, create))
        {
            ListenPort = wg.ListenPort,
            FirewallMark = wg.FirewallMark,
            Up = link.Up,
            Mtu = link.Mtu,
            Peers = [.. wg.Peers.Select(p => new DesiredWireGuardPeer(p.PublicKey)
            {
                Endpoint = p.Endpoint,
                AllowedIPs = p.AllowedIPs,
                PersistentKeepaliveInterval = p.PersistentKeepalive,
                PresharedKey = p.PresharedKey,
            })],
        };
    }

    /// <summary>Deletes this topology's WireGuard devices in namespace <paramref name="name"/> before the namespace is
    /// deleted: a wireguard-go serving one lives in the namespace and would keep it (and itself) alive after
    /// <c>ip netns del</c>; without its device it exits. Nothing is opened when the topology never had WireGuard.</summary>
    private void StopWireGuardIn(string name)
    {
        if (!UsesWireGuard)
        {
            return;
        }

        try
        {
            using var ns = NetworkNamespace.Open(name);
            using var handle = Netlink.NetlinkHandle.OpenAt(ns);
            var mark = WireGuardSource.MarkOf(Owner);
            foreach (var link in handle.ListLinksAsync().GetAwaiter().GetResult().Where(l => Same(l.Alias ?? "", mark)))
            {
                try
                {
                    handle.DeleteLinkAsync(link.Index).GetAwaiter().GetResult();
                }
                catch (Netlink.NetlinkException ex) when (ex.Errno == Netlink.Errno.ENODEV)
                {
                }
            }
        }
        catch (Netlink.NetlinkException ex) when (ex.Errno == Netlink.Errno.ENOENT)
        {
            // gone already
        }
    }

    private IEnumerable<TopologyLink> WireGuardIn(Scope scope) => _linksByScope[scope].Where(l => l.Kind == TopologyLinkKind.WireGuard);

    /// <summary>What the Devices stage of a scope should hold: each device, then each of its peers.</summary>
    private IEnumerable<(ObjectKey Key, string Subject)> ExpectedDevices(Scope scope)
    {
        foreach (var link in WireGuardIn(scope))
        {
            yield return (new ObjectKey(ObjectKind.WireGuardDevice, scope, link.Name), DescribeDevice(link, scope));
            foreach (var peer in link.WireGuard?.Peers ?? [])
            {
                yield return (new ObjectKey(ObjectKind.WireGuardPeer, scope, ShortKey(peer.PublicKey), link.Name), $"peer {peer.PublicKey} of {scope.Qualify(link.Name)}");
            }
        }
    }

    /// <summary><c>wireguard blue/wg0 (port 51820, public key …)</c>; the public key once there is one.</summary>
    private string DescribeDevice(TopologyLink link, Scope scope)
    {
        var port = link.WireGuard?.ListenPort is { } p ? $"port {p}" : "any port";
        var key = PublicKeyOf(link) is { } k ? ", public key " + k : ", key to be generated";
        return $"wireguard {scope.Qualify(link.Name)} ({port}{key})";
    }

    /// <summary>A WireGuard operation as a line: a device by its description, a peer by its whole public key.</summary>
    private string? DescribeWireGuard(Operation op)
    {
        var key = op.Key;
        if (key.Kind == ObjectKind.WireGuardDevice && _linksByScope[key.Scope].FirstOrDefault(l => Same(l.Name, key.Name)) is { Kind: TopologyLinkKind.WireGuard } link)
        {
            return DescribeDevice(link, key.Scope);
        }

        if (key.Kind == ObjectKind.WireGuardPeer && key.Parent is { } device
            && _linksByScope[key.Scope].FirstOrDefault(l => Same(l.Name, device))?.WireGuard?.Peers.FirstOrDefault(p => Same(ShortKey(p.PublicKey), key.Name)) is { } peer)
        {
            return $"peer {peer.PublicKey} of {key.Scope.Qualify(device)}";
        }

        return key.Kind is ObjectKind.WireGuardDevice or ObjectKind.WireGuardPeer ? key + In(key.Scope) : null;
    }

    /// <summary>How <see cref="WireGuardSource"/> names a peer in its keys: the first 8 base64 characters.</summary>
    private static string ShortKey(WireGuardKey key) => string.Concat(key.ToString().AsSpan(0, 8), "…");

    private sealed partial class Session
    {
        private readonly List<IWireGuardBackend> _backends = [];
        private readonly Lock _backendsLock = new();

        /// <summary>Whether this session may write (an apply or a run): it generates and keeps missing keys.</summary>
        public bool WritesKeys { get; init; }

        /// <summary>The WireGuard source of a scope: where the topology wants WireGuard anywhere (or did), so a device
        /// taken out of the file is removed; no backend is opened otherwise.</summary>
        private WireGuardSource? BuildWireGuard(Scope scope)
        {
            if (!_owner.UsesWireGuard)
            {
                return null;
            }

            var desired = _empty ? [] : _owner.WireGuardIn(scope).Select(l => _owner.ToDesiredDevice(l, WritesKeys)).ToList();
            if (desired.Count > 0 && WritesKeys)
            {
                _owner.MarkWireGuardUsed();
            }

            // The kernel's WireGuard where there is one; else wireguard-go, detached: the devices outlive this command.
            var target = scope.IsHost ? null : _namespaces[scope];
            var backend = WireGuardBackends.OpenAsync(target, new WireGuardBackendOptions { Detached = true }).GetAwaiter().GetResult();
            lock (_backendsLock)
            {
                _backends.Add(backend);
            }

            return new WireGuardSource(HandleOf(scope), backend, _owner.Owner, desired) { Scope = scope };
        }

        /// <summary>Before a namespace of this session is deleted: see <see cref="TopologyController.StopWireGuardIn"/>.</summary>
        public void StopWireGuardIn(string name) => _owner.StopWireGuardIn(name);

        private void DisposeBackends()
        {
            lock (_backendsLock)
            {
                foreach (var backend in _backends)
                {
                    backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }

                _backends.Clear();
            }
        }
    }
}
