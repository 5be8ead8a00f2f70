using System.Globalization;
using System.Net;
using Aether.Netlink;
using Aether.Netlink.Rtnl;
using Aether.Reconcile;
using Microsoft.Extensions.Logging;

namespace Aether.Hub;

/// <summary>Attachments: the containers of a network. A network's own container (from its add request) is the
/// attachment named by the index (<c>veth-rootN</c> / <c>ethN</c>); the others are attached one by one, with host ends
/// named <c>vethN-K</c> (K the lowest number free in the network, at most <see cref="MaxAttachmentNumber"/>: at most
/// 14 bytes, and unique on the hub since N is).</summary>
public sealed partial class WireGuardHub
{
    /// <summary>The largest K of <c>vethN-K</c>: <c>veth9999-99999</c> is 14 bytes.</summary>
    public const int MaxAttachmentNumber = 99999;

    private readonly Dictionary<string, Dictionary<string, Attachment>> _attachments = new(StringComparer.Ordinal);

    private async Task<HubAttachResult> AttachCoreAsync(string networkId, HubAttachRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        ArgumentNullException.ThrowIfNull(request);
        var normal = request.Validate();
        var reference = normal.Reference;
        OpenedContainer opened;
        try
        {
            opened = OpenedContainer.Open(reference);
        }
        catch (Exception ex) when (IsOpenFailure(ex))
        {
            throw CannotOpen(reference, ex);
        }

        using var openedScope = opened;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_networks.TryGetValue(networkId, out var network))
            {
                throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            }

            var id = normal.AttachmentId!;
            var existing = AttachmentsOf(network).FirstOrDefault(a => string.Equals(a.Id, id, StringComparison.Ordinal));
            if (existing is not null)
            {
                if (!existing.Own && normal.Matches(existing.Request))
                {
                    await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
                    return new HubAttachResult(Info(existing), Created: false);
                }

                throw new HubException(HubErrorKind.Conflict, $"attachment {id} of network {networkId} exists with other settings: detach it first") { NetworkId = networkId, Step = "attachmentId" };
            }

            var address = PickAddress(network, normal);
            CheckContainer(reference, network.Id, opened.Namespace);
            var newContainer = !_containers.TryGetValue(reference, out var container);
            var handle = container?.Handle;
            using var ownHandle = handle is null ? NetlinkHandle.OpenAt(opened.Namespace) : null;
            var name = normal.Interface ?? await PickInterfaceAsync(reference, handle ?? ownHandle!, cancellationToken).ConfigureAwait(false);
            if (AllAttachments().FirstOrDefault(a => string.Equals(a.Container, reference, StringComparison.Ordinal) && string.Equals(a.Interface, name, StringComparison.Ordinal)) is { } taken)
            {
                throw new HubException(HubErrorKind.Conflict, $"interface: {name} in {reference} is attachment {taken.Id} of network {taken.NetworkId}") { NetworkId = networkId, Step = "interface" };
            }

            var accepted = normal with { Interface = name, Address = address.ToString() };
            var foreign = await FindForeignDefaultRouteAsync(reference, handle ?? ownHandle!, cancellationToken).ConfigureAwait(false);
            var attachment = new Attachment(id, network.Id, network.Index, reference, HostName(network), name, address, Own: false, accepted, DefaultRoute: foreign is null);
            if (container is null)
            {
                container = OpenContainer(reference, required: true, opened);
            }
            else if (container.Gone)
            {
                await ReviveAsync(container, required: true, opened).ConfigureAwait(false);
            }

            SetAttachment(attachment, add: true);
            try
            {
                var conflict = await FindKernelConflictAsync(cancellationToken).ConfigureAwait(false);
                if (conflict is not null)
                {
                    throw new HubException(HubErrorKind.Conflict, $"{conflict.Value.Step}: {conflict.Value.What}") { Step = conflict.Value.Step, NetworkId = networkId };
                }

                var failure = await RunStepsAsync(stopAtFirstFailure: true, cancellationToken).ConfigureAwait(false);
                if (failure is { } f && !(f.Stage == Stage.Nftables && string.Equals(network.NatPolicy, HubNatPolicy.Warn, StringComparison.Ordinal)))
                {
                    var kind = f.Error is TerminalReconcileException ? HubErrorKind.Conflict : HubErrorKind.Failed;
                    throw new HubException(kind, $"{f.Step}: {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = networkId };
                }

                try
                {
                    await _store.SaveAttachmentAsync(new HubStoredAttachment(network.Id, accepted, attachment.HostInterface, attachment.DefaultRoute), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new HubException(HubErrorKind.Failed, "store: " + ex.Message, ex) { Step = "store", NetworkId = networkId };
                }
            }
            catch (Exception ex)
            {
                SetAttachment(attachment, add: false);
                var undo = await RunStepsAsync(stopAtFirstFailure: false, CancellationToken.None).ConfigureAwait(false);
                if (undo is { } u)
                {
                    LogRollbackFailure(_logger, networkId, u.Step, u.Error.Message);
                }

                if (newContainer)
                {
                    await ForgetUnusedContainersAsync(undo is null).ConfigureAwait(false);
                }

                LogRolledBack(_logger, networkId, ex.Message);
                throw;
            }

            await StartLoopAsync(container).ConfigureAwait(false);
            LogAttached(_logger, id, networkId, attachment.HostInterface, name, reference);
            if (foreign is not null)
            {
                LogForeignDefault(_logger, id, networkId, reference, foreign);
            }

            return new HubAttachResult(Info(attachment), Created: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DetachCoreAsync(string networkId, string attachmentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkId);
        ArgumentNullException.ThrowIfNull(attachmentId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_networks.TryGetValue(networkId, out var network))
            {
                throw new HubException(HubErrorKind.NotFound, $"no network {networkId}") { NetworkId = networkId };
            }

            if (_attachments.GetValueOrDefault(networkId)?.GetValueOrDefault(attachmentId) is not { } attachment)
            {
                var own = network.Container is not null && string.Equals(attachmentId, networkId, StringComparison.Ordinal);
                throw new HubException(own ? HubErrorKind.Conflict : HubErrorKind.NotFound, own
                    ? $"attachment {attachmentId} is network {networkId}'s own container: remove the network"
                    : $"no attachment {attachmentId} in network {networkId}") { NetworkId = networkId, Missing = own ? HubMissing.Network : HubMissing.Attachment };
            }

            await _store.DeleteAttachmentAsync(networkId, attachmentId, cancellationToken).ConfigureAwait(false);
            SetAttachment(attachment, add: false);
            var failure = await RunStepsAsync(stopAtFirstFailure: false, cancellationToken).ConfigureAwait(false);
            await ForgetUnusedContainersAsync(failure is null).ConfigureAwait(false);
            if (failure is { } f && f.Stage != Stage.Nftables)
            {
                throw new HubException(HubErrorKind.Failed, $"attachment {attachmentId} is no longer desired, but {f.Step} failed (the repair loop retries): {f.Error.Message}", f.Error) { Step = f.Step, NetworkId = networkId };
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Every attachment of every network, by network index (its own container first, then by id).</summary>
    private List<Attachment> AllAttachments() => [.. _networks.Values.OrderBy(n => n.Index).SelectMany(AttachmentsOf)];

    private IEnumerable<Attachment> AttachmentsOf(HubNetworkSpec network)
    {
        if (network.Container is { } own)
        {
            yield return new Attachment(network.Id, network.Id, network.Index, own, network.VethRootName, network.EthName, network.Address!, Own: true, null!, DefaultRoute: true);
        }

        if (_attachments.GetValueOrDefault(network.Id) is { } more)
        {
            foreach (var a in more.Values.OrderBy(a => a.Id, StringComparer.Ordinal))
            {
                yield return a;
            }
        }
    }

    /// <summary>Whether the attachment carries its container's default route: it may (no foreign default route was
    /// there when it was attached), and its network is the first (lowest index) of those of its container that may.</summary>
    private bool IsFirstInContainer(Attachment attachment) =>
        attachment.DefaultRoute && !AllAttachments().Any(a => a.DefaultRoute && a.Index < attachment.Index && string.Equals(a.Container, attachment.Container, StringComparison.Ordinal));

    /// <summary>An IPv4 default route in the container's main table that is not the hub's (its device is none of the
    /// hub's interfaces in that container), described; null when there is none.</summary>
    private async Task<string?> FindForeignDefaultRouteAsync(string reference, NetlinkHandle handle, CancellationToken cancellationToken)
    {
        // The whole family, filtered here: a dump that asks the kernel for the main table fails with ENOENT ("FIB table
        // does not exist") in a namespace that never had a route in it, such as a container made a moment ago.
        var routes = await handle.ListRoutesAsync(new RouteFilter { Family = System.Net.Sockets.AddressFamily.InterNetwork }, cancellationToken).ConfigureAwait(false);
        var defaults = routes.Where(r => r.Table == Route.MainTable && (r.Destination is null || r.Destination.Value.PrefixLength == 0)).ToList();
        if (defaults.Count == 0)
        {
            return null;
        }

        var names = (await handle.ListLinksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Index, l => l.Name);
        var ours = AllAttachments().Where(a => string.Equals(a.Container, reference, StringComparison.Ordinal)).Select(a => a.Interface).ToHashSet(StringComparer.Ordinal);
        var foreign = defaults.FirstOrDefault(r => r.OutputIndex is not int i || !names.TryGetValue(i, out var n) || !ours.Contains(n));
        if (foreign is null)
        {
            return null;
        }

        var device = foreign.OutputIndex is int index && names.TryGetValue(index, out var name) ? " dev " + name : "";
        return "default" + (foreign.Gateway is { } g ? " via " + g : "") + device;
    }

    /// <summary>Whether a network masquerades: it is the first network of one of its containers.</summary>
    private bool HasNat(HubNetworkSpec network) => AttachmentsOf(network).Any(IsFirstInContainer);

    private HubAttachmentInfo Info(Attachment a) =>
        new(a.Id, a.NetworkId, a.Container, a.HostInterface, a.Interface, a.Address.ToString(), _networks[a.NetworkId].Gateway.ToString(), IsFirstInContainer(a));

    /// <summary>The network as clients see it, with its attachments.</summary>
    private HubNetworkInfo NetworkInfo(HubNetworkSpec network) =>
        network.ToInfo(HasNat(network)) with { Attachments = [.. AttachmentsOf(network).Select(Info)] };

    private void SetAttachment(Attachment attachment, bool add)
    {
        lock (_stateLock)
        {
            if (add)
            {
                if (!_attachments.TryGetValue(attachment.NetworkId, out var map))
                {
                    map = new Dictionary<string, Attachment>(StringComparer.Ordinal);
                    _attachments[attachment.NetworkId] = map;
                }

                map[attachment.Id] = attachment;
            }
            else if (_attachments.TryGetValue(attachment.NetworkId, out var map))
            {
                map.Remove(attachment.Id);
                if (map.Count == 0)
                {
                    _attachments.Remove(attachment.NetworkId);
                }
            }
        }

        DisposeUnits();
    }

    /// <summary>The address asked for (checked against the network: inside it, not its network, broadcast or gateway
    /// address: 400; another attachment's: 409), or the lowest free one.</summary>
    private IPAddress PickAddress(HubNetworkSpec network, HubAttachRequest request)
    {
        var used = AttachmentsOf(network).Select(a => a.Address).ToHashSet();

        // A peer's allowed IPs narrower than the network are its part of the network (the far host's containers).
        var remote = network.Peers.SelectMany(p => p.AllowedIps.Select(a => (Peer: p, Prefix: a)))
            .Where(x => x.Prefix.Family == System.Net.Sockets.AddressFamily.InterNetwork && x.Prefix.PrefixLength > network.NetworkCidr.PrefixLength).ToList();
        var first = ToUInt(network.NetworkCidr.Network);
        var broadcast = first | (uint.MaxValue >> network.NetworkCidr.PrefixLength);
        if (request.Address is { } text)
        {
            var address = IPAddress.Parse(text);
            string? why = null;
            if (request.AddressPrefix is int length && length != network.NetworkCidr.PrefixLength && length != 32)
            {
                why = string.Create(CultureInfo.InvariantCulture, $"prefix length /{length} is neither the network's /{network.NetworkCidr.PrefixLength} nor /32");
            }
            else if (!network.NetworkCidr.Contains(address))
            {
                why = $"{address} is outside network {network.Id}'s {network.NetworkCidr}";
            }
            else if (ToUInt(address) == first || ToUInt(address) == broadcast)
            {
                why = $"{address} is the network or broadcast address of {network.NetworkCidr}";
            }
            else if (address.Equals(network.Gateway))
            {
                why = $"{address} is the network's gateway";
            }

            if (why is not null)
            {
                throw HubException.Invalid([new HubFieldError("address", why)]);
            }

            if (AttachmentsOf(network).FirstOrDefault(a => a.Address.Equals(address)) is { } other)
            {
                throw new HubException(HubErrorKind.Conflict, $"address: {address} is attachment {other.Id}'s in network {network.Id}") { NetworkId = network.Id, Step = "address" };
            }

            if (remote.FirstOrDefault(x => x.Prefix.Contains(address)) is { Peer: not null } far)
            {
                throw new HubException(HubErrorKind.Conflict, $"address: {address} is in {far.Prefix}, peer {far.Peer.PublicKey}'s allowed IPs") { NetworkId = network.Id, Step = "address" };
            }

            return address;
        }

        for (var candidate = first + 1; candidate < broadcast; candidate++)
        {
            var address = FromUInt(candidate);
            if (!address.Equals(network.Gateway) && !used.Contains(address) && !remote.Any(x => x.Prefix.Contains(address)))
            {
                return address;
            }
        }

        throw new HubException(HubErrorKind.Conflict, $"address: network {network.Id}'s {network.NetworkCidr} has no free address left") { NetworkId = network.Id, Step = "address" };
    }

    /// <summary>The lowest <c>ethK</c> that is neither in the container's namespace nor wanted there by the hub.</summary>
    private async Task<string> PickInterfaceAsync(string reference, NetlinkHandle handle, CancellationToken cancellationToken)
    {
        var present = (await handle.ListLinksAsync(cancellationToken).ConfigureAwait(false)).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var wanted = AllAttachments().Where(a => string.Equals(a.Container, reference, StringComparison.Ordinal)).Select(a => a.Interface);
        present.UnionWith(wanted);
        for (var k = 0; ; k++)
        {
            var name = "eth" + k.ToString(CultureInfo.InvariantCulture);
            if (!present.Contains(name))
            {
                return name;
            }
        }
    }

    /// <summary><c>vethN-K</c> with the lowest K free in the network.</summary>
    private string HostName(HubNetworkSpec network)
    {
        var used = AttachmentsOf(network).Select(a => a.HostInterface).ToHashSet(StringComparer.Ordinal);
        for (var k = 1; k <= MaxAttachmentNumber; k++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"veth{network.Index}-{k}");
            if (!used.Contains(name))
            {
                return name;
            }
        }

        throw new HubException(HubErrorKind.Conflict, string.Create(CultureInfo.InvariantCulture, $"network {network.Id} has {MaxAttachmentNumber} attachments already")) { NetworkId = network.Id };
    }

    /// <summary>Takes back the stored attachments of the networks loaded (those of unknown networks are ignored).</summary>
    private async Task LoadAttachmentsAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await _store.LoadAttachmentsAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                if (!_networks.TryGetValue(stored.NetworkId, out var network))
                {
                    continue;
                }

                var request = stored.Request.Validate();
                if (request.Interface is null || request.Address is null || !Aether.Netlink.Names.InterfaceNameRule.IsValid(stored.HostInterface, out _))
                {
                    throw HubException.Invalid([new HubFieldError("interface", "a stored attachment has its interface, address and host interface")]);
                }

                var attachment = new Attachment(request.AttachmentId!, network.Id, network.Index, request.Reference, stored.HostInterface, request.Interface, IPAddress.Parse(request.Address), Own: false, request, stored.DefaultRoute);
                if (!_containers.ContainsKey(attachment.Container))
                {
                    OpenContainer(attachment.Container, required: false);
                }

                SetAttachment(attachment, add: true);
            }
            catch (HubException ex)
            {
                LogBadStored(_logger, stored.NetworkId + "/" + stored.Request.AttachmentId, ex.Message);
            }
        }
    }

    private static uint ToUInt(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    private static IPAddress FromUInt(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "hub attachment {Attachment} of network {Network}: {Host} to {Interface} in {Container}")]
    private static partial void LogAttached(ILogger logger, string attachment, string network, string host, string @interface, string container);

    /// <summary>One container of a network: the veth pair <paramref name="HostInterface"/> (host, the gateway) to
    /// <paramref name="Interface"/> (container, <paramref name="Address"/>). <paramref name="Own"/>: the network's own
    /// container, named by the index (its <paramref name="Request"/> is null). <paramref name="DefaultRoute"/>: it may
    /// carry its container's default route (false when a default route not the hub's was there at attach time).</summary>
    private sealed record Attachment(string Id, string NetworkId, int Index, string Container, string HostInterface, string Interface, IPAddress Address, bool Own, HubAttachRequest Request, bool DefaultRoute);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Information, Message = "hub attachment {Attachment} of network {Network}: {Container} has a default route that is not the hub's ({Route}): this attachment takes no default route and no NAT")]
    private static partial void LogForeignDefault(ILogger logger, string attachment, string network, string container, string route);
}
