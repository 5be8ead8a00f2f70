using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;

namespace Aether.WireGuard;

/// <summary>What <see cref="WireGuardSource"/> reads: the namespace's links, and each device it cares about as the
/// device reports itself (null when the link is missing or is not a WireGuard device).</summary>
/// <param name="Links">The namespace's links by name.</param>
/// <param name="Devices">The desired devices, and owned WireGuard links that are no longer desired, by name.</param>
/// <param name="Supervised">The devices whose wireguard-go this source's backend runs: its own even when a restart
/// lost the link's mark.</param>
public sealed record WireGuardObservation(IReadOnlyDictionary<string, Link> Links, IReadOnlyDictionary<string, WireGuardDevice?> Devices, IReadOnlySet<string> Supervised);

/// <summary>
/// WireGuard devices and their peers in one namespace, through either backend. Creates a missing device (configured
/// whole, marked and up, or rolled back), restores one deleted by hand, sets the private key, port and firewall mark
/// when they drift, and diffs peers by public key: a missing peer is added, a changed one updated alone
/// (update-only; its allowed IPs replaced only when they changed), an unwanted one removed. Peers that did not change
/// are never touched, so their sessions, handshakes and counters go on. Owned devices carry the alias
/// <c>aether:OWNER/wg</c> (not a link source's mark, so a link source in the same namespace leaves them alone); a
/// device of a desired name without it is a conflict, reported and left alone, unless told to adopt.
/// </summary>
public sealed class WireGuardSource : Source<WireGuardObservation, WireGuardOperation>
{
    private readonly NetlinkHandle _handle;
    private readonly IWireGuardBackend _backend;
    private readonly DesiredWireGuardDevice[] _desired;
    private readonly ConflictPolicy _conflicts;

    /// <summary>Creates the source for <paramref name="handle"/>'s namespace.</summary>
    /// <param name="handle">The namespace's rtnetlink handle (not owned).</param>
    /// <param name="backend">The WireGuard backend of the same namespace (not owned).</param>
    /// <param name="owner">The owner's name, written into the mark.</param>
    /// <param name="desired">The devices wanted there.</param>
    /// <param name="conflicts">What to do with a device of a desired name that is not ours.</param>
    /// <exception cref="ArgumentException">A device is invalid or desired twice, or the backend is in another namespace.</exception>
    public WireGuardSource(NetlinkHandle handle, IWireGuardBackend backend, string owner, IReadOnlyList<DesiredWireGuardDevice> desired, ConflictPolicy conflicts = ConflictPolicy.Report)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(desired);
        if ((handle.Namespace?.Inode ?? CurrentInode()) != (backend.TargetNamespace?.Inode ?? CurrentInode()))
        {
            throw new ArgumentException($"the handle ({handle}) and the WireGuard backend ({backend}) are in different namespaces", nameof(backend));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in desired)
        {
            ArgumentNullException.ThrowIfNull(device);
            device.Validate();
            if (!names.Add(device.Name))
            {
                throw new ArgumentException($"wireguard device '{device.Name}' is desired twice", nameof(desired));
            }
        }

        _handle = handle;
        _backend = backend;
        _desired = [.. desired];
        _conflicts = conflicts;
        Mark = MarkOf(owner);
        Scope = Aether.Reconcile.Scope.Of(handle.Namespace);
    }

    /// <summary>The alias that marks WireGuard devices as owned.</summary>
    public string Mark { get; }

    /// <summary>The alias that marks <paramref name="owner"/>'s WireGuard devices.</summary>
    public static string MarkOf(string owner) => "aether:" + owner + "/wg";

    /// <inheritdoc/>
    public override string Name => "wireguard in " + (_handle.Namespace?.ToString() ?? "the host");

    /// <inheritdoc/>
    public override async Task<WireGuardObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        if (_handle.Namespace is { Name: { } ns } && !NetworkNamespace.Exists(ns))
        {
            throw new NamespaceGoneException($"namespace {ns} no longer exists");
        }

        var links = (await PassCache.ListLinksAsync(_handle, cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var devices = new Dictionary<string, WireGuardDevice?>(StringComparer.Ordinal);
        var supervised = new HashSet<string>(StringComparer.Ordinal);
        var names = _desired.Select(d => d.Name).Concat(links.Values.Where(l => IsOurs(l) && IsWireGuardKind(l)).Select(l => l.Name));
        // Each device is asked on its own (a UAPI socket per wireguard-go, a request per kernel device): all at once.
        var distinct = names.Distinct(StringComparer.Ordinal).ToList();
        var read = await Task.WhenAll(distinct.Select(name => links.ContainsKey(name) ? _backend.GetDeviceAsync(name, cancellationToken) : Task.FromResult<WireGuardDevice?>(null))).ConfigureAwait(false);
        for (var i = 0; i < distinct.Count; i++)
        {
            devices[distinct[i]] = read[i];
            if (_backend.Supervises(distinct[i]))
            {
                supervised.Add(distinct[i]);
            }
        }

        return new WireGuardObservation(links, devices, supervised);
    }

    /// <inheritdoc/>
    public override Plan Diff(WireGuardObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        foreach (var want in _desired)
        {
            var target = DeviceKey(want.Name);
            var link = observed.Links.GetValueOrDefault(want.Name);
            var device = observed.Devices.GetValueOrDefault(want.Name);
            if (link is null)
            {
                ops.Add(new WireGuardOperation(OperationKind.Create, target, "missing", WireGuardStep.CreateDevice, want.Name) { Desired = want });
                continue;
            }

            var ours = IsOurs(link) || observed.Supervised.Contains(want.Name);
            if (device is null)
            {
                // A link of that name that is no WireGuard device (a veth, a plain tun): ours is broken and replaced.
                var what = $"is a {link.Kind ?? "plain device"}, not a WireGuard device";
                if (!ours)
                {
                    ops.Add(Conflict(target, $"{what} (alias '{link.Alias}')", want));
                    continue;
                }

                ops.Add(new WireGuardOperation(OperationKind.Delete, target, what, WireGuardStep.DeleteDevice, want.Name) { Index = link.Index });
                ops.Add(new WireGuardOperation(OperationKind.Create, target, "recreated: " + what, WireGuardStep.CreateDevice, want.Name) { Desired = want });
                continue;
            }

            var adopt = false;
            if (!ours)
            {
                if (_conflicts == ConflictPolicy.Report)
                {
                    ops.Add(Conflict(target, $"exists but is not ours (alias '{link.Alias}')", want));
                    continue;
                }

                adopt = true;
            }

            DiffLink(ops, target, want, link, adopt);
            DiffDevice(ops, target, want, device);
            DiffPeers(ops, want, device);
        }

        foreach (var (name, _) in observed.Devices)
        {
            if (!_desired.Any(d => string.Equals(d.Name, name, StringComparison.Ordinal)) && observed.Links.TryGetValue(name, out var link) && IsOurs(link))
            {
                ops.Add(new WireGuardOperation(OperationKind.Delete, DeviceKey(name), "no longer desired", WireGuardStep.DeleteDevice, name) { Index = link.Index });
            }
        }

        return Plan.Of(ops);
    }

    /// <inheritdoc/>
    protected override async Task ApplyOperationAsync(WireGuardOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        switch (op.Step)
        {
            case WireGuardStep.CreateDevice:
                await CreateAsync(op.Desired!, cancellationToken).ConfigureAwait(false);
                break;
            case WireGuardStep.DeleteDevice:
                try
                {
                    await _backend.DeleteDeviceAsync(op.Device, cancellationToken).ConfigureAwait(false);
                }
                catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
                {
                    // Not a WireGuard device (any more): what is there under the name goes.
                    await IfStillThereAsync(_handle.DeleteLinkAsync(op.Index, cancellationToken)).ConfigureAwait(false);
                }

                break;
            case WireGuardStep.UpdateLink:
                await IfStillThereAsync(_handle.SetLinkAsync(op.Index, op.LinkChange!, cancellationToken)).ConfigureAwait(false);
                break;
            default:
                await IfStillThereAsync(_backend.ConfigureDeviceAsync(op.Device, op.Config!, cancellationToken)).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>The complete configuration of a new device: keys, port, mark and every peer.</summary>
    internal static WireGuardDeviceConfig FullConfig(DesiredWireGuardDevice want) => new()
    {
        PrivateKey = want.PrivateKey,
        ListenPort = want.ListenPort,
        FirewallMark = want.FirewallMark == 0 ? null : want.FirewallMark,
        Peers = [.. want.Peers.Select(AddPeer)],
    };

    private static WireGuardPeerConfig AddPeer(DesiredWireGuardPeer peer) => new(peer.PublicKey)
    {
        PresharedKey = peer.PresharedKey,
        Endpoint = peer.Endpoint,
        PersistentKeepaliveInterval = peer.PersistentKeepaliveInterval == 0 ? null : peer.PersistentKeepaliveInterval,
        ReplaceAllowedIPs = true,
        AllowedIPs = [.. peer.AllowedIPs.Select(DesiredWireGuardDevice.Normal)],
    };

    private static bool IsWireGuardKind(Link link) => link.Kind is "wireguard" or "tun";

    private static string UpDown(bool up) => up ? "up" : "down";

    private static WireGuardOperation Conflict(ObjectKey target, string reason, DesiredWireGuardDevice want) =>
        new(OperationKind.Update, target, reason, WireGuardStep.UpdateLink, want.Name) { Conflict = true, Desired = want };

    private static async Task IfStillThereAsync(Task change)
    {
        try
        {
            await change.ConfigureAwait(false);
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENODEV)
        {
            // Gone since it was observed (deleted by hand, its wireguard-go died): the next pass recreates it.
        }
    }

    private static ulong CurrentInode()
    {
        using var current = NetworkNamespace.OpenCurrent();
        return current.Inode;
    }

    private void DiffLink(List<Operation> ops, ObjectKey target, DesiredWireGuardDevice want, Link link, bool adopt)
    {
        var changes = new List<string>();
        if (adopt)
        {
            changes.Add($"adopted (alias was '{link.Alias}')");
        }
        else if (!string.Equals(link.Alias, Mark, StringComparison.Ordinal))
        {
            changes.Add("mark lost (wireguard-go restarted)");
        }

        if (link.IsUp != want.Up)
        {
            changes.Add($"{UpDown(link.IsUp)}, want {UpDown(want.Up)}");
        }

        if (want.Mtu is int mtu && link.Mtu != mtu)
        {
            changes.Add($"MTU {link.Mtu}, want {mtu}");
        }

        if (changes.Count > 0)
        {
            ops.Add(new WireGuardOperation(OperationKind.Update, target, string.Join(", ", changes), WireGuardStep.UpdateLink, want.Name)
            {
                Desired = want,
                Index = link.Index,
                LinkChange = new LinkChange { Up = want.Up, Mtu = want.Mtu, Alias = Mark },
            });
        }
    }

    private static void DiffDevice(List<Operation> ops, ObjectKey target, DesiredWireGuardDevice want, WireGuardDevice device)
    {
        var changes = new List<string>();
        var config = new WireGuardDeviceConfig();
        if (device.PrivateKey != want.PrivateKey)
        {
            changes.Add(device.PrivateKey.IsZero ? "no private key" : "another private key");
            config = config with { PrivateKey = want.PrivateKey };
        }

        if (want.ListenPort is ushort port && device.ListenPort != port)
        {
            changes.Add($"listen port {device.ListenPort}, want {port}");
            config = config with { ListenPort = port };
        }

        if (device.FirewallMark != want.FirewallMark)
        {
            changes.Add($"fwmark 0x{device.FirewallMark:x}, want 0x{want.FirewallMark:x}");
            config = config with { FirewallMark = want.FirewallMark };
        }

        if (changes.Count > 0)
        {
            ops.Add(new WireGuardOperation(OperationKind.Update, target, string.Join(", ", changes), WireGuardStep.ConfigureDevice, want.Name) { Config = config });
        }
    }

    private void DiffPeers(List<Operation> ops, DesiredWireGuardDevice want, WireGuardDevice device)
    {
        var have = new Dictionary<WireGuardKey, WireGuardPeer>();
        foreach (var peer in device.Peers)
        {
            have.TryAdd(peer.PublicKey, peer);
        }

        foreach (var peer in want.Peers)
        {
            var target = PeerKey(peer.Short, want.Name);
            if (!have.Remove(peer.PublicKey, out var current))
            {
                ops.Add(new WireGuardOperation(OperationKind.Create, target, "missing", WireGuardStep.AddPeer, want.Name)
                {
                    Config = new WireGuardDeviceConfig { Peers = [AddPeer(peer)] },
                });
                continue;
            }

            var changes = new List<string>();
            var change = new WireGuardPeerConfig(peer.PublicKey) { UpdateOnly = true };
            var psk = peer.PresharedKey ?? WireGuardSecretKey.Zero;
            if (current.PresharedKey != psk)
            {
                changes.Add(psk.IsZero ? "a preshared key, want none" : "another preshared key");
                change = change with { PresharedKey = psk };
            }

            if (peer.Endpoint is { } endpoint && !endpoint.Equals(current.Endpoint))
            {
                changes.Add($"endpoint {current.Endpoint?.ToString() ?? "none"}, want {endpoint}");
                change = change with { Endpoint = endpoint };
            }

            if (current.PersistentKeepaliveInterval != peer.PersistentKeepaliveInterval)
            {
                changes.Add($"keepalive {current.PersistentKeepaliveInterval} s, want {peer.PersistentKeepaliveInterval} s");
                change = change with { PersistentKeepaliveInterval = peer.PersistentKeepaliveInterval };
            }

            var wanted = peer.AllowedIPs.Select(DesiredWireGuardDevice.Normal).ToArray();
            var wantedSet = wanted.Select(p => p.ToString()).ToHashSet(StringComparer.Ordinal);
            var currentSet = current.AllowedIPs.Select(p => DesiredWireGuardDevice.Normal(p).ToString()).ToHashSet(StringComparer.Ordinal);
            if (!wantedSet.SetEquals(currentSet))
            {
                var added = wantedSet.Except(currentSet, StringComparer.Ordinal).Order(StringComparer.Ordinal);
                var removed = currentSet.Except(wantedSet, StringComparer.Ordinal).Order(StringComparer.Ordinal);
                changes.Add("allowed IPs " + string.Join(' ', added.Select(a => "+" + a).Concat(removed.Select(r => "-" + r))));
                change = change with { ReplaceAllowedIPs = true, AllowedIPs = wanted };
            }

            if (changes.Count > 0)
            {
                ops.Add(new WireGuardOperation(OperationKind.Update, target, string.Join(", ", changes), WireGuardStep.UpdatePeer, want.Name)
                {
                    Config = new WireGuardDeviceConfig { Peers = [change] },
                });
            }
        }

        foreach (var extra in have.Values)
        {
            ops.Add(new WireGuardOperation(OperationKind.Delete, PeerKey(DesiredWireGuardPeer.ShortKey(extra.PublicKey), want.Name), "not desired", WireGuardStep.RemovePeer, want.Name)
            {
                Config = new WireGuardDeviceConfig { Peers = [new WireGuardPeerConfig(extra.PublicKey) { Remove = true }] },
            });
        }
    }

    private ObjectKey DeviceKey(string name) => new(ObjectKind.WireGuardDevice, Scope, name);

    private ObjectKey PeerKey(string shortKey, string device) => new(ObjectKind.WireGuardPeer, Scope, shortKey, device);

    private bool IsOurs(Link link) => string.Equals(link.Alias, Mark, StringComparison.Ordinal);

    /// <summary>Creates, configures, marks and raises the device as one step: if any part fails, the device is
    /// deleted again and the first failure is what the caller sees.</summary>
    private async Task CreateAsync(DesiredWireGuardDevice want, CancellationToken cancellationToken)
    {
        await _backend.CreateDeviceAsync(want.Name, cancellationToken).ConfigureAwait(false);
        try
        {
            await _backend.ConfigureDeviceAsync(want.Name, FullConfig(want), cancellationToken).ConfigureAwait(false);
            await _handle.SetLinkAsync(want.Name, new LinkChange { Alias = Mark, Up = want.Up, Mtu = want.Mtu }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await _backend.DeleteDeviceAsync(want.Name, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NetlinkException)
            {
            }

            throw;
        }
    }

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var hints = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        void OnDevice(object? sender, WireGuardDeviceEventArgs e) => hints.Writer.TryWrite(e);
        _backend.DeviceChanged += OnDevice;
        var pump = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var e in _handle.MonitorAsync(MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        hints.Writer.TryWrite(e);
                    }

                    hints.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    hints.Writer.TryComplete(ex is OperationCanceledException ? null : ex);
                }
            },
            CancellationToken.None);
        try
        {
            await foreach (var hint in hints.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return hint;
            }
        }
        finally
        {
            _backend.DeviceChanged -= OnDevice;
            await pump.ConfigureAwait(false);
        }
    }
}
