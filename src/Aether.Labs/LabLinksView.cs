using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aether.Labs;

/// <summary>A link as <c>aether lab links -o json</c> and the daemon's API show it.</summary>
/// <param name="Endpoints">Both endpoints as the lab file wrote them (<c>r1:Ethernet1</c>).</param>
/// <param name="Linux">Both endpoints by Linux name (<c>r1:eth1</c>).</param>
/// <param name="Id">The link's identity (<see cref="LinkId.Value"/>, <c>r1:eth1-r2:eth1</c>).</param>
/// <param name="State"><c>pending</c>, <c>creating</c>, <c>up</c>, <c>error</c> or <c>down</c>.</param>
/// <param name="Vlan">The VLAN tag of its ports (ovs fabric), or null.</param>
/// <param name="Mtu">The MTU the lab asks for, or null.</param>
/// <param name="Error">Why it is in error, or null.</param>
/// <param name="Checked">When verification last read it, or null.</param>
public sealed record LinkView(
    IReadOnlyList<string> Endpoints,
    IReadOnlyList<string> Linux,
    string Id,
    string State,
    int? Vlan,
    int? Mtu,
    string? Error,
    DateTimeOffset? Checked)
{
    /// <summary>The view of a stored link state.</summary>
    public static LinkView From(LinkState link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return new([link.A.ToString(), link.B.ToString()], [link.A.Key, link.B.Key], link.Id.Value, StateName(link.Status), link.Vlan, link.Mtu, link.Error, link.Checked);
    }

    /// <summary>How a status is written: <c>pending</c>, <c>creating</c>, <c>up</c>, <c>error</c>, <c>down</c>.</summary>
    public static string StateName(LinkStatus status) => status switch
    {
        LinkStatus.Pending => "pending",
        LinkStatus.Creating => "creating",
        LinkStatus.Up => "up",
        LinkStatus.Error => "error",
        LinkStatus.Down => "down",
        _ => status.ToString(),
    };
}

/// <summary>
/// What a lab operation left, as <c>aether lab ... -o json</c> prints it and the daemon answers it:
/// <c>{"command", "lab", "counts"?, "links": [...], "error"}</c>, the counts only for a reconciliation.
/// </summary>
/// <param name="Command">The operation: <c>deploy</c>, <c>links</c>, <c>verify</c>, <c>reconcile</c>.</param>
/// <param name="Lab">The lab's name.</param>
/// <param name="Counts">A reconciliation's counts; absent otherwise.</param>
/// <param name="Links">Every link's state, in lab order.</param>
/// <param name="Error">The failure that stopped the engine, with the kernel's text, or null.</param>
public sealed record LabLinksView(
    string Command,
    string Lab,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReconcileCounts? Counts,
    IReadOnlyList<LinkView> Links,
    string? Error)
{
    private static readonly LabViewJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The view of <paramref name="result"/>.</summary>
    public static LabLinksView From(string command, string lab, LabResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(command, lab, result.Counts, [.. result.Links.Select(LinkView.From)], result.Error);
    }

    /// <summary>The view as one line of camelCase JSON (no reflection: the serializer's code is generated).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Context.LabLinksView);
}

/// <summary>The views' JSON, generated at build time.</summary>
[JsonSerializable(typeof(LabLinksView))]
internal sealed partial class LabViewJsonContext : JsonSerializerContext;
