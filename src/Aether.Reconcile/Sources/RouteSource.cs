using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Rtnl;
using RouteScope = Aether.Netlink.Rtnl.Scope;

namespace Aether.Reconcile.Sources;

/// <summary>A route Aether should keep in one namespace. Its family comes from <see cref="Destination"/>, or from
/// <see cref="Gateway"/> for a default route.</summary>
public sealed record DesiredRoute
{
    /// <summary>The destination prefix (host bits clear); null, or a <c>/0</c> prefix, is the default route.</summary>
    public IPPrefix? Destination { get; init; }

    /// <summary>The next-hop gateway, or null for a route straight through <see cref="Device"/>.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>The output link by name, resolved to an ifindex on every pass; null lets the kernel pick the gateway's
    /// link (and then the link is not compared).</summary>
    public string? Device { get; init; }

    /// <summary>The routing table (<c>main</c> unless set).</summary>
    public uint Table { get; init; } = Route.MainTable;

    /// <summary>The metric; null is the kernel's default (0 for IPv4, 1024 for IPv6).</summary>
    public uint? Metric { get; init; }

    /// <summary>The scope (IPv4 only); null is link scope without a gateway, universe with one.</summary>
    public RouteScope? Scope { get; init; }

    /// <summary>The gateway is on the link even though no prefix covers it (needs a gateway and a device).</summary>
    public bool OnLink { get; init; }

    /// <summary>The preferred source address (<c>src</c>).</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary>The address family, from the destination or the gateway; <see cref="AddressFamily.Unspecified"/> when
    /// neither says.</summary>
    public AddressFamily Family => Destination?.Family ?? Gateway?.AddressFamily ?? AddressFamily.Unspecified;

    /// <summary>The route as <c>ip route</c> would write it (<c>default via 10.0.0.1 dev eth0 table 254</c>).</summary>
    public override string ToString()
    {
        var parts = new List<string> { Destination is { PrefixLength: > 0 } dst ? dst.ToString() : "default" };
        if (Gateway is not null)
        {
            parts.Add("via " + Gateway);
        }

        if (Device is not null)
        {
            parts.Add("dev " + Device);
        }

        parts.Add(string.Create(CultureInfo.InvariantCulture, $"table {Table}"));
        if (Metric is uint metric)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"metric {metric}"));
        }

        if (Scope is { } scope)
        {
            parts.Add("scope " + RouteSource.ScopeName(scope));
        }

        if (OnLink)
        {
            parts.Add("onlink");
        }

        if (PreferredSource is not null)
        {
            parts.Add("src " + PreferredSource);
        }

        return string.Join(' ', parts);
    }
}

/// <summary>How a <see cref="RouteSource"/> marks, records and defends its routes.</summary>
public sealed record RouteSourceOptions
{
    /// <summary>The protocol number that marks owned routes (<see cref="RouteSource.DefaultProtocol"/> unless set).</summary>
    public byte Protocol { get; init; } = RouteSource.DefaultProtocol;

    /// <summary>What to do with a route that is not ours where a desired one should be.</summary>
    public ConflictPolicy Conflicts { get; init; } = ConflictPolicy.Report;

    /// <summary>The last-applied record; null is a fresh record kept in memory. Give each source its own: the keys
    /// do not name the namespace.</summary>
    public AppliedRecord? Record { get; init; }

    /// <summary>Whether every route carrying <see cref="Protocol"/> in the namespace is this source's (true, the
    /// default: one owner per namespace, and an owned route no longer desired is deleted even when a restart emptied
    /// an in-memory record), or only those it desires or has in its record (false: several owners share a namespace
    /// and the protocol, each with a record that survives restarts, as the topology controller's do; another owner's
    /// routes are then left alone).</summary>
    public bool OwnsProtocol { get; init; } = true;
}

/// <summary>What <see cref="RouteSource"/> reads: the links (to resolve device names), the IPv4 and IPv6 routes of
/// every table that are desired, owned or recorded, and a snapshot of the record's route entries.</summary>
/// <param name="Links">Link ifindexes by name.</param>
/// <param name="Routes">The routes; others may be present and are left alone.</param>
/// <param name="Record">The last-applied record's entries (only keys starting with <c>route </c> are read).</param>
public sealed record RouteObservation(IReadOnlyDictionary<string, int> Links, IReadOnlyList<Route> Routes, IReadOnlyDictionary<string, AppliedEntry> Record);

/// <summary>An operation on a route, with what it needs to run.</summary>
/// <param name="Kind">Create, update or delete.</param>
/// <param name="Key">The route, named by its identity (<c>route 254 0.0.0.0/0 metric 0</c>), which is also its record
/// key.</param>
/// <param name="Reason">Why.</param>
/// <param name="Route">The desired route (null when deleting one that is not desired).</param>
/// <param name="Existing">The route found in the kernel (null when creating, or forgetting a record entry whose route
/// is gone).</param>
public sealed record RouteOperation(OperationKind Kind, ObjectKey Key, string Reason, DesiredRoute? Route, Route? Existing)
    : Operation(Kind, Stage.Routes, Key, Reason)
{
    /// <summary>The output ifindex the desired device resolved to, or null.</summary>
    public int? OutputIndex { get; init; }

    /// <summary>The desired device was not found: applying fails (retryably) until it appears.</summary>
    public string? MissingDevice { get; init; }

}

/// <summary>
/// Routes in one namespace: adds what is missing, replaces owned routes that drifted, deletes owned routes that are
/// no longer desired, and leaves everything else (kernel, connected and foreign routes) alone. A route is identified
/// by family, table, destination and metric, as the kernel finds it. Owned routes carry <see cref="Protocol"/>; and
/// since <c>ip route replace</c> or <c>change</c> rewrites the protocol to <c>boot</c>, a route at a key in the
/// last-applied record is owned too, whatever its protocol. A route at a desired key that is neither is a conflict:
/// reported (terminal) or, with <see cref="ConflictPolicy.Adopt"/>, replaced by ours. A route found carrying
/// <see cref="Protocol"/> at a desired key is recorded when observed, so a restarted source with an empty record
/// still recognises it after its protocol is rewritten. When several routes share a key (<c>ip route append</c>), the
/// one carrying our protocol, else the first, is the one compared and replaced; the others are left alone.
/// </summary>
public sealed partial class RouteSource : Source<RouteObservation, RouteOperation>
{
    /// <summary>Aether's default route protocol, 174: above <c>RTPROT_STATIC</c> (so the kernel does not interpret it),
    /// and named neither in <c>linux/rtnetlink.h</c> nor in iproute2's <c>rt_protos</c>; <c>ip route</c> shows it
    /// as <c>proto 174</c>.</summary>
    public const byte DefaultProtocol = 174;

    private const string KeyPrefix = "route ";

    /// <summary>The <c>RTPROT_*</c> values <c>linux/rtnetlink.h</c> and iproute2's <c>rt_protos</c> name.</summary>
    private static readonly HashSet<byte> NamedProtocols = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 42, 99, 186, 187, 188, 189, 192];

    private readonly NetlinkHandle? _handle;
    private readonly IReadOnlyList<DesiredRoute> _desired;
    private readonly string[] _keys;
    private readonly ConflictPolicy _conflicts;
    private readonly AppliedRecord _record;
    private readonly bool _ownsProtocol;

    /// <summary>Creates the source for <paramref name="handle"/>'s namespace.</summary>
    /// <exception cref="ArgumentException">A desired route or an option is invalid, or a route is desired twice.</exception>
    public RouteSource(NetlinkHandle handle, IReadOnlyList<DesiredRoute> desired, RouteSourceOptions? options = null)
        : this(desired, options)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _handle = handle;
        Scope = Scope.Of(handle.Namespace);
    }

    /// <summary>A source that can only diff (for tests of the pure diff: no socket).</summary>
    internal RouteSource(IReadOnlyList<DesiredRoute> desired, RouteSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        options ??= new RouteSourceOptions();
        if (options.Protocol <= Route.ProtocolStatic || NamedProtocols.Contains(options.Protocol))
        {
            throw new ArgumentException($"route protocol {options.Protocol} is reserved (the kernel or iproute2 names it, or it is not above RTPROT_STATIC); use one nobody names, such as {DefaultProtocol}", nameof(options));
        }

        if (!Enum.IsDefined(options.Conflicts))
        {
            throw new ArgumentException($"conflict policy {options.Conflicts} is not a policy", nameof(options));
        }

        _keys = new string[desired.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < desired.Count; i++)
        {
            var route = desired[i] ?? throw new ArgumentException($"route #{i + 1} is null", nameof(desired));
            Validate(route, i);
            _keys[i] = KeyOf(route);
            if (seen.TryGetValue(_keys[i], out var first))
            {
                throw new ArgumentException($"route #{i + 1} ({route}) is desired twice: route #{first + 1} has the same identity ({_keys[i]})", nameof(desired));
            }

            seen[_keys[i]] = i;
        }

        _desired = desired;
        Protocol = options.Protocol;
        _conflicts = options.Conflicts;
        _record = options.Record ?? AppliedRecord.InMemory();
        _ownsProtocol = options.OwnsProtocol;
    }

    /// <summary>The protocol number that marks owned routes.</summary>
    public byte Protocol { get; }

    /// <summary>The last-applied record of the routes this source installed.</summary>
    public AppliedRecord Record => _record;

    /// <inheritdoc/>
    public override string Name => "routes in " + SourceNamespace.Describe(Handle);

    private NetlinkHandle Handle => _handle ?? throw new InvalidOperationException("this route source was made for diffing only");

    /// <summary>The record key, and operation target, of a route: <c>route TABLE DST metric M</c>, the default route
    /// written as <c>0.0.0.0/0</c> or <c>::/0</c>, the metric as the kernel stores it (IPv6 turns 0 into 1024).</summary>
    public static string KeyOf(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return Key(route.Family, route.Table, route.Destination, route.Metric);
    }

    /// <summary>The record key of a desired route (see <see cref="KeyOf(Route)"/>).</summary>
    public static string KeyOf(DesiredRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return Key(route.Family, route.Table, route.Destination, route.Metric);
    }

    /// <inheritdoc/>
    public override async Task<RouteObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        var handle = Handle;
        SourceNamespace.ThrowIfGone(handle.Namespace);
        if (!_ownsProtocol && _desired.Count == 0 && _record.Count == 0)
        {
            // Nothing wanted, nothing recorded, and the protocol alone claims nothing: no route here can be ours.
            return new RouteObservation(new Dictionary<string, int>(StringComparer.Ordinal), [], new Dictionary<string, AppliedEntry>(StringComparer.Ordinal));
        }

        var links = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var link in await PassCache.ListLinksAsync(handle, cancellationToken).ConfigureAwait(false))
        {
            links[link.Name] = link.Index;
        }

        // Owned routes may sit in any table: every table is read, one family at a time (so no other family's routes
        // are mistaken for IPv4). First only our protocol's routes (the kernel filters): when every desired and
        // recorded key is among them, that is the whole truth, and the steady state never reads foreign routes.
        // Otherwise everything is read, to see what holds the missing keys (a conflict, or ours rewritten by hand).
        var desiredByKey = DesiredByKey();
        var all = await ListAsync(handle, Protocol, cancellationToken).ConfigureAwait(false);
        var found = all.Select(KeyOf).ToHashSet(StringComparer.Ordinal);
        if (!desiredByKey.Keys.Concat(RouteEntries(_record.Snapshot()).Keys).All(found.Contains))
        {
            all = await ListAsync(handle, null, cancellationToken).ConfigureAwait(false);
        }

        // A route carrying our protocol at a desired key is ours: record it, so that it stays ours after someone
        // rewrites its protocol (a record kept in memory starts empty after a restart).
        foreach (var route in all)
        {
            if (route.Protocol == Protocol && desiredByKey.TryGetValue(KeyOf(route), out var want) && !_record.TryGet(KeyOf(route), out _))
            {
                _record.Set(KeyOf(route), new AppliedEntry(want.ToString()));
            }
        }

        var record = RouteEntries(_record.Snapshot());
        var routes = all.Where(r => r.Protocol == Protocol || desiredByKey.ContainsKey(KeyOf(r)) || record.ContainsKey(KeyOf(r))).ToList();
        return new RouteObservation(links, routes, record);
    }

    private static async Task<List<Route>> ListAsync(NetlinkHandle handle, byte? protocol, CancellationToken cancellationToken)
    {
        var all = new List<Route>();
        all.AddRange(await handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetwork, Protocol = protocol }, cancellationToken).ConfigureAwait(false));
        all.AddRange(await handle.ListRoutesAsync(new RouteFilter { Family = AddressFamily.InterNetworkV6, Protocol = protocol }, cancellationToken).ConfigureAwait(false));
        return protocol is byte p ? all.FindAll(r => r.Protocol == p) : all; // kept honest if a kernel ignores the filter
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => HintsAsync(cancellationToken);

    private static string Key(AddressFamily family, uint table, IPPrefix? destination, uint? metric)
    {
        var v6 = family == AddressFamily.InterNetworkV6;
        var dst = destination is { PrefixLength: > 0 } d ? new IPPrefix(d.Network, d.PrefixLength).ToString() : v6 ? "::/0" : "0.0.0.0/0";
        var m = metric is uint value && (value != 0 || !v6) ? value : v6 ? 1024u : 0u;
        return string.Create(CultureInfo.InvariantCulture, $"{KeyPrefix}{table} {dst} metric {m}");
    }

    private static void Validate(DesiredRoute route, int i)
    {
        string Fail(string why) => $"route #{i + 1} ({route}): {why}";
        var family = route.Family;
        if (family == AddressFamily.Unspecified)
        {
            throw new ArgumentException(Fail("a default route through a device alone needs its family: give the destination 0.0.0.0/0 or ::/0"), nameof(DesiredRoute.Destination));
        }

        if (route.Destination is { } dst && !dst.Address.Equals(dst.Network))
        {
            throw new ArgumentException(Fail($"destination {dst} has host bits set (the network is {dst.Network}/{dst.PrefixLength})"), nameof(DesiredRoute.Destination));
        }

        if (route.Gateway is { } gateway && gateway.AddressFamily != family)
        {
            throw new ArgumentException(Fail($"gateway {gateway} is not of the destination's family"), nameof(DesiredRoute.Gateway));
        }

        if (route.Gateway is null && route.Device is null)
        {
            throw new ArgumentException(Fail("a route needs a gateway or a device"), nameof(DesiredRoute.Gateway));
        }

        if (route.Device is not null && !InterfaceName.IsValid(route.Device, out var badName))
        {
            throw new ArgumentException(Fail($"device '{route.Device}': {badName}"), nameof(DesiredRoute.Device));
        }

        if (route.PreferredSource is { } source && source.AddressFamily != family)
        {
            throw new ArgumentException(Fail($"preferred source {source} is not of the route's family"), nameof(DesiredRoute.PreferredSource));
        }

        if (route.OnLink && (route.Gateway is null || route.Device is null))
        {
            throw new ArgumentException(Fail("an on-link route needs a gateway and a device"), nameof(DesiredRoute.OnLink));
        }

        if (route.Table == 0)
        {
            throw new ArgumentException(Fail("table 0 is not a table"), nameof(DesiredRoute.Table));
        }

        if (route.Scope is { } scope && family == AddressFamily.InterNetworkV6 && scope != RouteScope.Universe)
        {
            throw new ArgumentException(Fail("IPv6 routes have no scope"), nameof(DesiredRoute.Scope));
        }

        if (route.Scope is { } defined && !Enum.IsDefined(defined))
        {
            throw new ArgumentException(Fail($"scope {(byte)defined} is not a scope"), nameof(DesiredRoute.Scope));
        }
    }

    private static Dictionary<string, AppliedEntry> RouteEntries(IReadOnlyDictionary<string, AppliedEntry> record)
    {
        var entries = new Dictionary<string, AppliedEntry>(StringComparer.Ordinal);
        foreach (var (key, entry) in record)
        {
            if (key.StartsWith(KeyPrefix, StringComparison.Ordinal))
            {
                entries[key] = entry;
            }
        }

        return entries;
    }

    private Dictionary<string, DesiredRoute> DesiredByKey()
    {
        var byKey = new Dictionary<string, DesiredRoute>(StringComparer.Ordinal);
        for (var i = 0; i < _desired.Count; i++)
        {
            byKey[_keys[i]] = _desired[i];
        }

        return byKey;
    }

    private async IAsyncEnumerable<object> HintsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in Handle.MonitorAsync(MonitorGroups.Routes | MonitorGroups.Links, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }
}
