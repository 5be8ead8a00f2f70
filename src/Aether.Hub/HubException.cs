namespace Aether.Hub;

/// <summary>What kind of refusal or failure a <see cref="HubException"/> is.</summary>
public enum HubErrorKind
{
    /// <summary>The request is invalid (see <see cref="HubException.Errors"/>); nothing was touched.</summary>
    Invalid,

    /// <summary>No network has that id.</summary>
    NotFound,

    /// <summary>The request conflicts with another network (its index, port, CIDR or id with other settings) or with
    /// an object the hub does not own (a foreign <c>wgN</c>); nothing was touched.</summary>
    Conflict,

    /// <summary>A step failed in the kernel; what the call created was rolled back (see
    /// <see cref="HubException.Step"/>).</summary>
    Failed,
}

/// <summary>What a <see cref="HubErrorKind.NotFound"/> did not find.</summary>
public enum HubMissing
{
    /// <summary>No network has the id.</summary>
    Network,

    /// <summary>The network has no attachment of the id.</summary>
    Attachment,

    /// <summary>The network has no peer of the key.</summary>
    Peer,
}

/// <summary>One bad field of a request.</summary>
/// <param name="Field">The field as the wire names it (<c>networkCidr</c>).</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record HubFieldError(string Field, string Message);

/// <summary>The hub refused or failed a request. <see cref="Exception.Message"/> is one line for people; the rest is
/// for machines (problem details).</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubException(HubErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    /// <summary>What kind it is.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>The bad fields of an invalid request (empty otherwise).</summary>
    public IReadOnlyList<HubFieldError> Errors { get; init; } = [];

    /// <summary>The step that failed (<c>links in the host</c>, <c>wireguard wg3</c>), for <see cref="HubErrorKind.Failed"/>
    /// and for conflicts found in the kernel.</summary>
    public string? Step { get; init; }

    /// <summary>What was not found, for <see cref="HubErrorKind.NotFound"/>.</summary>
    public HubMissing Missing { get; init; }

    /// <summary>The network the request named, when it named one.</summary>
    public string? NetworkId { get; init; }

    /// <summary>An invalid request.</summary>
    public static HubException Invalid(IReadOnlyList<HubFieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return new HubException(HubErrorKind.Invalid, "invalid request: " + string.Join("; ", errors.Select(e => e.Field + ": " + e.Message))) { Errors = errors };
    }
}
