using Aether.Hub;

namespace Aether.Server.Docker;

/// <summary>The driver refused or failed a request: <see cref="Exception.Message"/> is what dockerd shows the user
/// (<c>Err</c>), naming each bad option.</summary>
internal sealed class DriverException(HubErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>What kind of refusal or failure (it picks the HTTP status).</summary>
    public HubErrorKind Kind { get; } = kind;

    /// <summary>An invalid request: every bad field or option, at once.</summary>
    public static DriverException Invalid(IEnumerable<string> errors) =>
        new(HubErrorKind.Invalid, "invalid request: " + string.Join("; ", errors));

    /// <summary>A hub error passed on, its field names (the hub's) replaced by the driver's option names.</summary>
    public static DriverException FromHub(HubException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Kind is HubErrorKind.Invalid && e.Errors.Count > 0
            ? new DriverException(e.Kind, "invalid request: " + string.Join("; ", e.Errors.Select(x => NetworkOptions.OptionFor(x.Field) + ": " + x.Message)), e)
            : new DriverException(e.Kind, e.Step is { } step ? $"{e.Message} (step: {step})" : e.Message, e);
    }
}
