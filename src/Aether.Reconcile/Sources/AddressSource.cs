using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using RouteScope = Aether.Netlink.Rtnl.Scope;

namespace Aether.Reconcile.Sources;

/// <summary>An address Aether should keep on a link of one namespace.</summary>
/// <param name="Link">The link's name (it may be made by another source, or by someone else).</param>
/// <param name="Address">The address and prefix length (<c>10.0.0.1/24</c>, <c>fd00::1/64</c>).</param>
public sealed record DesiredAddress(string Link, IPPrefix Address)
{
    /// <inheritdoc/>
    public override string ToString() => Address + " on " + Link;
}

/// <summary>What <see cref="AddressSource"/> reads: the links of its namespace both ways, every address in it, and a
/// copy of the last-applied record taken at the same time (so the diff needs nothing else).</summary>
/// <param name="LinkIndexes">Link name to ifindex.</param>
/// <param name="LinkNames">Ifindex to link name.</param>
/// <param name="Addresses">Every address in the namespace, of both families.</param>
/// <param name="Record">The record's entries when the addresses were read.</param>
public sealed record AddressObservation(
    IReadOnlyDictionary<string, int> LinkIndexes,
    IReadOnlyDictionary<int, string> LinkNames,
    IReadOnlyList<Address> Addresses,
    IReadOnlyDictionary<string, AppliedEntry> Record);

/// <summary>An operation on an address, with what it needs to run.</summary>
/// <param name="Kind">Create, update (adoption or conflict only) or delete.</param>
/// <param name="Key">The address (<c>address 10.0.0.1/24 on eth0</c>).</param>
/// <param name="Reason">Why.</param>
/// <param name="Link">The link's name.</param>
/// <param name="Address">The address and prefix length.</param>
/// <param name="Index">The link's ifindex, or 0 when the link was missing.</param>
public sealed record AddressOperation(OperationKind Kind, ObjectKey Key, string Reason, string Link, IPPrefix Address, int Index)
    : Operation(Kind, Stage.Addresses, Key, Reason)
{
    /// <summary>The peer of a point-to-point address being deleted (the kernel matches IPv4 deletes on it).</summary>
    public IPAddress? Peer { get; init; }


    /// <summary>Only the record changes: an adoption (update) or forgetting an address that is already gone (delete).</summary>
    public bool RecordOnly { get; init; }

    /// <summary>The key of this address in the last-applied record.</summary>
    public string RecordKey => AddressSource.KeyOf(Link, Address);
}

/// <summary>
/// IPv4 and IPv6 addresses in one namespace. The kernel cannot mark an address, so the last-applied record is the
/// ownership: an address is ours when, and only when, its key (<see cref="KeyOf"/>) is in the record. Adds what is
/// missing, removes owned addresses that are no longer desired (or that a change of prefix length replaced), and
/// never touches anything else: kernel link-locals, foreign addresses, links nobody asked about.
/// </summary>
/// <remarks>
/// An address's identity is link, address and prefix length. The same IP address found with another prefix length,
/// or on another link, is a clash: when it is ours it is deleted and the desired one added; when it is not, it is a
/// conflict, reported (<see cref="ConflictPolicy.Report"/>: applying throws <see cref="TerminalReconcileException"/>)
/// or taken over (<see cref="ConflictPolicy.Adopt"/>: deleted, then ours added). A foreign clash is judged once the
/// desired link exists. Creates that wait for a link, then conflicts, come after the rest, so that they do not hold
/// up the addresses that can be applied. Give each source its own record (or one per namespace): keys do not name
/// the namespace.
/// </remarks>
public sealed class AddressSource : Source<AddressObservation, AddressOperation>
{
    private const string KeyPrefix = "address ";

    private readonly NetlinkHandle _handle;
    private readonly AppliedRecord _record;
    private readonly IReadOnlyList<DesiredAddress> _desired;
    private readonly ConflictPolicy _policy;

    /// <summary>Creates the source for <paramref name="handle"/>'s namespace.</summary>
    /// <param name="handle">The handle bound to the namespace (not owned: the caller disposes it).</param>
    /// <param name="record">The last-applied record: what this source owns.</param>
    /// <param name="desired">The addresses wanted, each IP address once.</param>
    /// <param name="policy">What to do with a foreign address in the way.</param>
    /// <exception cref="ArgumentException">An entry is invalid (the message names it), or an IP address is desired twice.</exception>
    public AddressSource(NetlinkHandle handle, AppliedRecord record, IReadOnlyList<DesiredAddress> desired, ConflictPolicy policy = ConflictPolicy.Report)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(record);
        Validate(desired);
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown conflict policy");
        }

        _handle = handle;
        _record = record;
        _desired = [.. desired];
        _policy = policy;
        Scope = Scope.Of(handle.Namespace);
    }

    /// <inheritdoc/>
    public override string Name => "addresses in " + SourceNamespace.Describe(_handle);

    /// <summary>Namespaces the caller made moments ago and has put links in but no address yet: their addresses are
    /// not read, taken as none (an apply from empty of a thousand namespaces reads a thousand address tables no more
    /// than it must; their links are still read, for the names' ifindexes). The caller stops saying so once its
    /// addresses stage has been planned. Null: every namespace's addresses are read.</summary>
    public Func<NetworkNamespace, bool>? Fresh { get; init; }

    /// <summary>The record key of an address: <c>address LINK ADDR/PLEN</c>.</summary>
    public static string KeyOf(string link, IPPrefix address) => address.Address is { } ip
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{KeyPrefix}{link} {ip}/{address.PrefixLength}") // no string of the prefix on the way
        : KeyPrefix + link + " ";

    /// <summary>The link a record key (<see cref="KeyOf"/>) names, or null when the key is not an address's.</summary>
    public static string? LinkOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var space = key.IndexOf(' ', KeyPrefix.Length);
        return space < 0 ? null : key[KeyPrefix.Length..space];
    }

    /// <summary>The observation of a source with nothing wanted and nothing recorded: one for all of them (read-only).</summary>
    private static readonly AddressObservation NothingObserved = new(
        System.Collections.ObjectModel.ReadOnlyDictionary<string, int>.Empty,
        System.Collections.ObjectModel.ReadOnlyDictionary<int, string>.Empty,
        [],
        System.Collections.ObjectModel.ReadOnlyDictionary<string, AppliedEntry>.Empty);

    /// <inheritdoc/>
    public override async Task<AddressObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        SourceNamespace.ThrowIfGone(_handle.Namespace);
        if (_desired.Count == 0 && _record.Count == 0)
        {
            // Addresses are ours only by the record: with nothing wanted and nothing recorded there is nothing to read.
            return NothingObserved;
        }

        var record = _record.Snapshot();
        var links = await PassCache.ListLinksAsync(_handle, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<Address> addresses = _handle.Namespace is { } own && Fresh?.Invoke(own) == true
            ? []
            : await ReadAddressesAsync(FamiliesOf(_desired, record), cancellationToken).ConfigureAwait(false);
        var indexes = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new Dictionary<int, string>();
        foreach (var link in links)
        {
            indexes[link.Name] = link.Index;
            names[link.Index] = link.Name;
        }

        return new AddressObservation(indexes, names, addresses, record);
    }

    /// <summary>The address families a diff looks at: those of the desired addresses and of the recorded ones (an
    /// address of neither is never judged, whoever holds it). A thousand namespaces with an IPv4 address each and no
    /// IPv6 one are not asked for their IPv6 link-local addresses: a dump each less.</summary>
    internal static (bool V4, bool V6) FamiliesOf(IReadOnlyList<DesiredAddress> desired, IReadOnlyDictionary<string, AppliedEntry> record)
    {
        bool v4 = false, v6 = false;
        foreach (var want in desired)
        {
            (v4, v6) = want.Address.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (v4, true) : (true, v6);
        }

        foreach (var key in record.Keys)
        {
            if (v4 && v6)
            {
                break;
            }

            if (TryParseKey(key, out _, out var address))
            {
                (v4, v6) = address.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (v4, true) : (true, v6);
            }
        }

        return (v4, v6);
    }

    /// <summary>The IPv4 and the IPv6 addresses here, of the families asked for, one family after the other: the kernel dumps each family's
    /// addresses without the RTNL lock (since Linux 6.9), where a dump of all families at once holds it, so
    /// namespaces read side by side do not wait for one another (nor spin on the lock while the host's links are
    /// dumped).</summary>
    private async Task<IReadOnlyList<Address>> ReadAddressesAsync((bool V4, bool V6) families, CancellationToken cancellationToken)
    {
        IReadOnlyList<Address> v4 = families.V4 ? await _handle.ListAddressesAsync(System.Net.Sockets.AddressFamily.InterNetwork, cancellationToken: cancellationToken).ConfigureAwait(false) : [];
        IReadOnlyList<Address> v6 = families.V6 ? await _handle.ListAddressesAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, cancellationToken: cancellationToken).ConfigureAwait(false) : [];
        return v6.Count == 0 ? v4 : v4.Count == 0 ? v6 : [.. v4, .. v6];
    }

    /// <inheritdoc/>
    public override Plan Diff(AddressObservation observed) => Diff(_desired, _policy, observed, Scope);

    /// <inheritdoc/>
    public override void Prepare(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        // Up to the first conflict: a pass stops there (it is refused), so nothing after it is meant to happen.
        _record.SetMany(plan.TakeWhile(op => !op.Conflict).OfType<AddressOperation>()
            .Where(op => op is { Kind: OperationKind.Create, Index: > 0 })
            .Select(op => KeyValuePair.Create(op.RecordKey, new AppliedEntry(op.Address.ToString()))));
    }

    /// <summary>Consecutive additions on links that exist go to the kernel as one batch (a thousand host ends: a
    /// few sends instead of a thousand round trips); each is recorded as it succeeds, and a failure is reported for
    /// its address while the others stay made.</summary>
    protected override async Task<ApplyOutcome> ApplyFromAsync(Plan plan, int start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = 0;
        while (start + run < plan.Count && plan[start + run] is AddressOperation { Kind: OperationKind.Create, Conflict: false, RecordOnly: false, Index: > 0 })
        {
            run++;
        }

        if (run < 2)
        {
            return await base.ApplyFromAsync(plan, start, cancellationToken).ConfigureAwait(false);
        }

        var ops = plan.Skip(start).Take(run).Cast<AddressOperation>().ToArray();
        using var batch = _handle.CreateBatch();
        foreach (var op in ops)
        {
            batch.AddAddress(SpecOf(op));
        }

        var result = await batch.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        var applied = new List<Operation>(ops.Length);
        for (var i = 0; i < ops.Length; i++)
        {
            if (result.Errors[i] is null)
            {
                _record.Set(ops[i].RecordKey, new AppliedEntry(ops[i].Address.ToString()));
                applied.Add(ops[i]);
            }
        }

        return new ApplyOutcome(run, applied, result.Errors.FirstOrDefault(e => e is not null));
    }

    /// <inheritdoc/>
    protected override string ConflictMessage(AddressOperation conflict) => base.ConflictMessage(conflict) + $" (conflict policy {_policy})";

    /// <inheritdoc/>
    protected override async Task ApplyOperationAsync(AddressOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.RecordOnly)
        {
            if (op.Kind == OperationKind.Delete)
            {
                _record.Remove(op.RecordKey);
            }
            else
            {
                _record.Set(op.RecordKey, new AppliedEntry(op.Address.ToString()));
            }

            return;
        }

        switch (op.Kind)
        {
            case OperationKind.Create:
                if (op.Index <= 0)
                {
                    // Retryable: the link may be on its way (another source creates it).
                    throw new InvalidOperationException($"add {op.Target}: link {op.Link} missing");
                }

                await _handle.AddAddressAsync(SpecOf(op), cancellationToken).ConfigureAwait(false);
                _record.Set(op.RecordKey, new AppliedEntry(op.Address.ToString()));
                break;
            case OperationKind.Delete:
                try
                {
                    await _handle.DeleteAddressAsync(SpecOf(op), cancellationToken).ConfigureAwait(false);
                }
                catch (NetlinkException ex) when (ex.Errno is Errno.EADDRNOTAVAIL or Errno.ENODEV)
                {
                    // Gone since it was observed (with its link, perhaps): what the delete wanted.
                }

                _record.Remove(op.RecordKey);
                break;
            default:
                throw new ArgumentException($"unexpected address operation: {op}", nameof(op));
        }
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    /// <summary>The diff, as a function of its inputs alone.</summary>
    internal static Plan Diff(IReadOnlyList<DesiredAddress> desired, ConflictPolicy policy, AddressObservation observed, Scope scope = default)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        // Each made at its first operation: a no-op plan of a thousand namespaces makes none.
        List<Operation>? ops = null;
        // Last, so that a link not there yet, or a conflict, does not hold up the addresses that can be applied.
        List<Operation>? waiting = null;
        List<Operation>? conflicts = null;
        var keys = new string[desired.Count];
        var desiredKeys = new HashSet<string>(desired.Count, StringComparer.Ordinal);
        var desiredByIp = new Dictionary<IPAddress, DesiredAddress>(desired.Count);
        for (var i = 0; i < desired.Count; i++)
        {
            var want = desired[i];
            keys[i] = KeyOf(want.Link, want.Address);
            desiredKeys.Add(keys[i]);
            desiredByIp[want.Address.Address] = want;
        }

        // Only the holders of desired addresses are looked up (a host's IPv6 link-local ones, say, never are).
        var holders = observed.Addresses.Where(a => desiredByIp.ContainsKey(a.Prefix.Address)).ToLookup(a => a.Prefix.Address);
        for (var i = 0; i < desired.Count; i++)
        {
            var want = desired[i];
            var key = keys[i];
            var linkThere = observed.LinkIndexes.TryGetValue(want.Link, out var index);
            var present = false;
            List<Address>? foreign = null; // made only for a desired address that someone else holds
            foreach (var have in holders[want.Address.Address])
            {
                if (linkThere && have.Index == index && have.Prefix.PrefixLength == want.Address.PrefixLength)
                {
                    present = true;
                }
                else if (!observed.Record.ContainsKey(KeyOf(NameOf(observed, have.Index), have.Prefix)))
                {
                    (foreign ??= []).Add(have); // an owned clash is no longer desired: the record pass below deletes it
                }
            }

            // Its key as a target is made only for an operation (a no-op plan of a thousand makes none), and without a
            // closure: one per desired address was a thousand objects a plan.
            if (!linkThere && (foreign is null || policy != ConflictPolicy.Report))
            {
                // Judged once the link exists; but an address someone else holds already is a conflict right away,
                // so that a plan refuses before anything is created.
                (waiting ??= []).Add(new AddressOperation(OperationKind.Create, TargetOf(scope, want.Link, want.Address), $"link {want.Link} missing", want.Link, want.Address, 0));
                continue;
            }

            if (foreign is not null && policy == ConflictPolicy.Report)
            {
                var clashes = string.Join(", ", foreign.Select(f => $"{f.Prefix} on {NameOf(observed, f.Index)}"));
                (conflicts ??= []).Add(new AddressOperation(present ? OperationKind.Update : OperationKind.Create, TargetOf(scope, want.Link, want.Address), $"conflicts with {clashes}, which is not ours", want.Link, want.Address, index) { Conflict = true });
                continue;
            }

            foreach (var f in foreign ?? Enumerable.Empty<Address>())
            {
                var name = NameOf(observed, f.Index);
                (ops ??= []).Add(new AddressOperation(OperationKind.Delete, TargetOf(scope, name, f.Prefix), $"not ours, in the way of {want}: taken over (conflict policy Adopt)", name, f.Prefix, f.Index) { Peer = f.Peer });
            }

            if (!present)
            {
                (ops ??= []).Add(new AddressOperation(OperationKind.Create, TargetOf(scope, want.Link, want.Address), "missing", want.Link, want.Address, index));
            }
            else if (!observed.Record.ContainsKey(key) && policy == ConflictPolicy.Adopt)
            {
                (ops ??= []).Add(new AddressOperation(OperationKind.Update, TargetOf(scope, want.Link, want.Address), "present but not ours: adopted (conflict policy Adopt)", want.Link, want.Address, index) { RecordOnly = true });
            }
        }

        // Only the keys no longer desired are put in order (a host's thousand desired ones need none).
        List<string>? stale = null;
        foreach (var key in observed.Record.Keys)
        {
            if (!desiredKeys.Contains(key))
            {
                (stale ??= []).Add(key);
            }
        }

        stale?.Sort(StringComparer.Ordinal);
        foreach (var key in stale ?? [])
        {
            if (!TryParseKey(key, out var link, out var address))
            {
                continue;
            }

            var why = desiredByIp.TryGetValue(address.Address, out var replacement) ? "replaced by " + replacement : "no longer desired";
            var target = TargetOf(scope, link, address);
            var index = observed.LinkIndexes.GetValueOrDefault(link);
            var found = index == 0 ? null : observed.Addresses.FirstOrDefault(a => a.Index == index && a.Prefix == address);
            (ops ??= []).Add(found is null
                ? new AddressOperation(OperationKind.Delete, target, why + ", already gone: forgotten", link, address, index) { RecordOnly = true }
                : new AddressOperation(OperationKind.Delete, target, why, link, address, index) { Peer = found.Peer });
        }

        if (ops is null && waiting is null && conflicts is null)
        {
            return Plan.Empty;
        }

        return Plan.Of([.. ops ?? [], .. waiting ?? [], .. conflicts ?? []]);
    }

    /// <summary>Checks the whole desired list; throws <see cref="ArgumentException"/> naming the first bad entry.</summary>
    internal static void Validate(IReadOnlyList<DesiredAddress> desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        // A set only for a list long enough to need one: most sources of a thousand namespaces want one address.
        var byIp = desired.Count > 8 ? new Dictionary<IPAddress, DesiredAddress>() : null;
        for (var i = 0; i < desired.Count; i++)
        {
            var want = desired[i] ?? throw new ArgumentException($"desired address #{i} is null", nameof(desired));
            var ip = want.Address.Address;
            if (ip is null)
            {
                throw new ArgumentException($"desired address #{i} on '{want.Link}' has no address", nameof(desired));
            }

            if (!InterfaceName.IsValid(want.Link, out var why))
            {
                throw new ArgumentException($"address {want.Address} on '{want.Link}': invalid interface name: {why}", nameof(desired));
            }

            if (NotAnInterfaceAddress(ip) is { } what)
            {
                throw new ArgumentException($"address {want}: {what}", nameof(desired));
            }

            if (EarlierWith(desired, i, ip, byIp) is { } first)
            {
                var detail = first == want ? "desired twice" : $"desired twice ({first} and {want}): an IP address lives in one place";
                throw new ArgumentException($"address {ip} is {detail}", nameof(desired));
            }

            if (byIp is not null)
            {
                byIp[ip] = want;
            }
        }
    }

    /// <summary>The first of <paramref name="desired"/>'s first <paramref name="count"/> with <paramref name="ip"/>:
    /// from <paramref name="byIp"/> when there is one, by looking through them otherwise.</summary>
    private static DesiredAddress? EarlierWith(IReadOnlyList<DesiredAddress> desired, int count, IPAddress ip, Dictionary<IPAddress, DesiredAddress>? byIp)
    {
        if (byIp is not null)
        {
            return byIp.GetValueOrDefault(ip);
        }

        for (var j = 0; j < count; j++)
        {
            if (desired[j].Address.Address.Equals(ip))
            {
                return desired[j];
            }
        }

        return null;
    }

    /// <summary>Reads a key made by <see cref="KeyOf"/>; false for keys of other sources or ones that do not parse.</summary>
    internal static bool TryParseKey(string key, out string link, out IPPrefix address)
    {
        link = string.Empty;
        address = default;
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key[KeyPrefix.Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !InterfaceName.IsValid(rest[..space], out _) || !IPPrefix.TryParse(rest[(space + 1)..], out address))
        {
            address = default;
            return false;
        }

        link = rest[..space];
        return true;
    }

    private static ObjectKey TargetOf(Scope scope, string link, IPPrefix address) => ObjectKey.Address(scope, link, address.ToString());

    /// <summary>A link's name, or <c>ifindex N</c> for one that appeared between the two dumps.</summary>
    private static string NameOf(AddressObservation observed, int index) =>
        observed.LinkNames.TryGetValue(index, out var name) ? name : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ifindex {index}");

    /// <summary>Why <paramref name="ip"/> cannot be put on an interface, or null when it can.</summary>
    private static string? NotAnInterfaceAddress(IPAddress ip)
    {
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0)
        {
            return "carries a scope id (the link gives the scope)";
        }

        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        {
            return "the unspecified address is not an interface address";
        }

        if (ip.IsIPv6Multicast || (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes()[0] is >= 224 and <= 239))
        {
            return "a multicast address is not an interface address";
        }

        return ip.Equals(IPAddress.Broadcast) ? "the broadcast address is not an interface address" : null;
    }

    /// <summary>What the kernel is asked: 127/8 gets host scope, as <c>ip addr add</c> gives it.</summary>
    private static AddressSpec SpecOf(AddressOperation op) => new(op.Index, op.Address)
    {
        Peer = op.Peer,
        Scope = op.Address.Family == AddressFamily.InterNetwork && op.Address.Address.GetAddressBytes()[0] == 127 ? RouteScope.Host : RouteScope.Universe,
    };

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _handle.MonitorAsync(MonitorGroups.Addresses | MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }
}
