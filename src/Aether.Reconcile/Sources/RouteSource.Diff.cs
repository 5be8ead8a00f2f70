using System.Globalization;
using System.Net.Sockets;
using Aether.Netlink.Rtnl;
using RouteScope = Aether.Netlink.Rtnl.Scope;

namespace Aether.Reconcile.Sources;

/// <summary>The diff: desired routes against the kernel's and the record, by identity.</summary>
public sealed partial class RouteSource
{
    /// <inheritdoc/>
    public override Plan Diff(RouteObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var record = RouteEntries(observed.Record);
        var names = new Dictionary<int, string>();
        foreach (var (name, index) in observed.Links)
        {
            names[index] = name;
        }

        var byKey = new Dictionary<string, List<Route>>(StringComparer.Ordinal);
        foreach (var route in observed.Routes)
        {
            if (route.Family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                continue;
            }

            var key = KeyOf(route);
            if (!byKey.TryGetValue(key, out var list))
            {
                byKey[key] = list = [];
            }

            list.Add(route);
        }

        var ops = new List<Operation>();
        for (var i = 0; i < _desired.Count; i++)
        {
            var want = _desired[i];
            var key = _keys[i];
            int? index = null;
            string? missing = null;
            if (want.Device is { } device)
            {
                if (observed.Links.TryGetValue(device, out var found))
                {
                    index = found;
                }
                else
                {
                    missing = device;
                }
            }

            if (!byKey.TryGetValue(key, out var here))
            {
                var why = missing is null ? "missing" : $"missing, and link {missing} is missing";
                ops.Add(new RouteOperation(OperationKind.Create, ObjectKey.Route(Scope, key), why, want, null) { OutputIndex = index, MissingDevice = missing });
                continue;
            }

            var have = here.Find(r => r.Protocol == Protocol) ?? here[0];
            if (have.Protocol != Protocol && !record.ContainsKey(key))
            {
                var what = $"a route not ours is there ({Describe(have, names)})";
                ops.Add(_conflicts == ConflictPolicy.Adopt
                    ? new RouteOperation(OperationKind.Update, ObjectKey.Route(Scope, key), what + ", adopting it", want, have) { OutputIndex = index, MissingDevice = missing }
                    : new RouteOperation(OperationKind.Update, ObjectKey.Route(Scope, key), what, want, have) { OutputIndex = index, MissingDevice = missing, Conflict = true });
                continue;
            }

            var changes = Differences(want, index, missing, have, names);
            if (changes.Count > 0)
            {
                ops.Add(new RouteOperation(OperationKind.Update, ObjectKey.Route(Scope, key), string.Join(", ", changes), want, have) { OutputIndex = index, MissingDevice = missing });
            }
        }

        var desiredKeys = new HashSet<string>(_keys, StringComparer.Ordinal);
        foreach (var (key, here) in byKey)
        {
            if (desiredKeys.Contains(key))
            {
                continue;
            }

            var ours = _ownsProtocol || record.ContainsKey(key) ? here.FindAll(r => r.Protocol == Protocol) : [];
            if (ours.Count == 0 && record.ContainsKey(key))
            {
                ours.Add(here[0]); // ours by the record, its protocol rewritten by hand
            }

            foreach (var route in ours)
            {
                ops.Add(new RouteOperation(OperationKind.Delete, ObjectKey.Route(Scope, key), "no longer desired", null, route));
            }
        }

        foreach (var key in record.Keys)
        {
            if (!desiredKeys.Contains(key) && !byKey.ContainsKey(key))
            {
                ops.Add(new RouteOperation(OperationKind.Delete, ObjectKey.Route(Scope, key), "no longer desired and already gone: forgetting it", null, null));
            }
        }

        return Plan.Of(ops);
    }

    /// <summary>The lowercase name <c>ip</c> gives a scope.</summary>
    internal static string ScopeName(RouteScope scope) => scope switch
    {
        RouteScope.Universe => "global",
        RouteScope.Site => "site",
        RouteScope.Link => "link",
        RouteScope.Host => "host",
        RouteScope.Nowhere => "nowhere",
        _ => ((byte)scope).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The scope the kernel reports for the desired route: IPv6 routes always say universe.</summary>
    private static RouteScope ExpectedScope(DesiredRoute want) =>
        want.Family == AddressFamily.InterNetworkV6 ? RouteScope.Universe
        : want.Scope ?? (want.Gateway is null ? RouteScope.Link : RouteScope.Universe);

    private static string DeviceName(int? index, IReadOnlyDictionary<int, string> names) =>
        index is int i ? names.TryGetValue(i, out var name) ? name : string.Create(CultureInfo.InvariantCulture, $"ifindex {i}") : "no device";

    private static string Describe(Route route, IReadOnlyDictionary<int, string> names)
    {
        var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"protocol {route.Protocol}") };
        if (route.Type != Route.TypeUnicast)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"type {route.Type}"));
        }

        if (route.Gateway is not null)
        {
            parts.Add("via " + route.Gateway);
        }

        if (route.OutputIndex is not null)
        {
            parts.Add("dev " + DeviceName(route.OutputIndex, names));
        }

        return string.Join(' ', parts);
    }

    private List<string> Differences(DesiredRoute want, int? index, string? missing, Route have, IReadOnlyDictionary<int, string> names)
    {
        var changes = new List<string>();
        if (have.Type != Route.TypeUnicast)
        {
            changes.Add(string.Create(CultureInfo.InvariantCulture, $"type {have.Type}, want unicast"));
        }

        if (!Equals(have.Gateway, want.Gateway))
        {
            changes.Add($"{(have.Gateway is null ? "no gateway" : "via " + have.Gateway)}, want {(want.Gateway is null ? "no gateway" : "via " + want.Gateway)}");
        }

        if (missing is not null)
        {
            changes.Add($"dev {DeviceName(have.OutputIndex, names)}, want dev {missing}, and link {missing} is missing");
        }
        else if (index is int i && have.OutputIndex != i)
        {
            changes.Add($"dev {DeviceName(have.OutputIndex, names)}, want dev {want.Device}");
        }

        var scope = ExpectedScope(want);
        if (want.Family == AddressFamily.InterNetwork && have.Scope != scope)
        {
            changes.Add($"scope {(have.Scope is { } s ? ScopeName(s) : "none")}, want scope {ScopeName(scope)}");
        }

        if (have.OnLink != want.OnLink)
        {
            changes.Add(want.OnLink ? "not onlink, want onlink" : "onlink, want not onlink");
        }

        if (!Equals(have.PreferredSource, want.PreferredSource))
        {
            changes.Add($"{(have.PreferredSource is null ? "no src" : "src " + have.PreferredSource)}, want {(want.PreferredSource is null ? "no src" : "src " + want.PreferredSource)}");
        }

        if (have.Protocol != Protocol)
        {
            changes.Add(string.Create(CultureInfo.InvariantCulture, $"protocol {have.Protocol}, want {Protocol}"));
        }

        return changes;
    }
}
