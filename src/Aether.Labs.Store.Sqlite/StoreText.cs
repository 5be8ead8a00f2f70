namespace Aether.Labs.Store;

/// <summary>What both stores write the same way: the texts of states and fabrics (the reference's
/// <c>actual_state</c> values), ids, times to the microsecond, and the checks a lab passes before it is written.</summary>
internal static class StoreText
{
    /// <summary>The text a status is stored as.</summary>
    public static string Status(LinkStatus status) => status switch
    {
        LinkStatus.Pending => "pending",
        LinkStatus.Creating => "creating",
        LinkStatus.Up => "up",
        LinkStatus.Error => "error",
        LinkStatus.Down => "down",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown link status"),
    };

    /// <summary>A stored <c>actual_state</c>; a value this build does not know reads as
    /// <see cref="LinkStatus.Error"/> rather than failing the whole read.</summary>
    public static LinkStatus ParseStatus(string text) => text switch
    {
        "pending" => LinkStatus.Pending,
        "creating" => LinkStatus.Creating,
        "up" => LinkStatus.Up,
        "error" => LinkStatus.Error,
        "down" => LinkStatus.Down,
        _ => LinkStatus.Error,
    };

    /// <summary>The text a fabric is stored as.</summary>
    public static string Fabric(LabFabric fabric) => fabric switch
    {
        LabFabric.Veth => "veth",
        LabFabric.Ovs => "ovs",
        _ => throw new ArgumentOutOfRangeException(nameof(fabric), fabric, "unknown fabric"),
    };

    /// <summary>A stored fabric (anything but <c>ovs</c> is veth).</summary>
    public static LabFabric ParseFabric(string text) => string.Equals(text, "ovs", StringComparison.Ordinal) ? LabFabric.Ovs : LabFabric.Veth;

    /// <summary>A new row's id.</summary>
    public static string NewId() => Guid.NewGuid().ToString();

    /// <summary>Now, to the microsecond (what PostgreSQL keeps), so that every provider gives back what was
    /// written.</summary>
    public static DateTimeOffset Now() => Microseconds(DateTimeOffset.UtcNow);

    /// <summary>The time in UTC, truncated to the microsecond.</summary>
    public static DateTimeOffset Microseconds(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    /// <summary>Ordinal equality, nulls equal.</summary>
    public static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

    /// <summary>Checks the lab before it is written: a name, no two nodes of one name, no two links of one
    /// identity.</summary>
    /// <exception cref="ArgumentException">It has.</exception>
    public static void CheckLab(LabSpec lab, string definition)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrEmpty(lab.Name);
        CheckUnique(lab.Name, "node", lab.Nodes.Select(n => n.Name));
        CheckUnique(lab.Name, "link", lab.Links.Select(l => l.Id.Value));
    }

    /// <summary>Throws when a key appears twice.</summary>
    /// <exception cref="ArgumentException">One does.</exception>
    public static void CheckUnique(string lab, string what, IEnumerable<string> keys)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!seen.Add(key))
            {
                throw new ArgumentException($"lab '{lab}': {what} '{key}' appears twice", nameof(lab));
            }
        }
    }
}
