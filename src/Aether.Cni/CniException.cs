namespace Aether.Cni;

/// <summary>The error codes of the CNI specification (1.0, "Error") and this plugin's own (100 and up).</summary>
public static class CniCodes
{
    /// <summary>1: incompatible CNI version.</summary>
    public const int IncompatibleVersion = 1;

    /// <summary>2: unsupported field in the network configuration; the message names it.</summary>
    public const int UnsupportedField = 2;

    /// <summary>3: the container is unknown or does not exist.</summary>
    public const int UnknownContainer = 3;

    /// <summary>4: invalid necessary environment variables (<c>CNI_COMMAND</c>, <c>CNI_CONTAINERID</c>, ...).</summary>
    public const int InvalidEnvironment = 4;

    /// <summary>5: I/O failure (stdin, a key file).</summary>
    public const int IoFailure = 5;

    /// <summary>6: failed to decode content (stdin is not JSON).</summary>
    public const int DecodeFailure = 6;

    /// <summary>7: invalid network configuration; the message names every bad field.</summary>
    public const int InvalidNetworkConfig = 7;

    /// <summary>11: try again later (the daemon is not reachable now).</summary>
    public const int TryAgainLater = 11;

    /// <summary>100: the daemon refused the network or the attachment as conflicting with what it holds (HTTP 409).</summary>
    public const int Conflict = 100;

    /// <summary>101: the daemon failed a step (HTTP 5xx), or answered what this plugin cannot read.</summary>
    public const int DaemonFailed = 101;

    /// <summary>102: CHECK found the container's interface or address not as the attachment says.</summary>
    public const int CheckFailed = 102;
}

/// <summary>An error as the CNI specification reports it: a code, a message, details (written to stdout as
/// <c>{"cniVersion","code","msg","details"}</c>; the plugin then exits non-zero).</summary>
public sealed class CniException : Exception
{
    /// <summary>An error.</summary>
    /// <param name="code">One of <see cref="CniCodes"/>.</param>
    /// <param name="message">The short message (<c>msg</c>).</param>
    /// <param name="details">The longer text (<c>details</c>), or null.</param>
    public CniException(int code, string message, string? details = null)
        : base(message)
    {
        Code = code;
        Details = details;
    }

    /// <summary>An error of code <see cref="CniCodes.DaemonFailed"/>.</summary>
    public CniException()
        : this(CniCodes.DaemonFailed, "failed")
    {
    }

    /// <summary>An error of code <see cref="CniCodes.DaemonFailed"/>.</summary>
    /// <param name="message">The message.</param>
    public CniException(string message)
        : this(CniCodes.DaemonFailed, message)
    {
    }

    /// <summary>An error of code <see cref="CniCodes.DaemonFailed"/> with its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CniException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = CniCodes.DaemonFailed;
    }

    /// <summary>The code (<see cref="CniCodes"/>).</summary>
    public int Code { get; }

    /// <summary>The details, or null.</summary>
    public string? Details { get; }

    /// <summary>An invalid configuration naming every bad field: <c>msg</c> lists them, <c>details</c> says each
    /// on its own line.</summary>
    /// <param name="code">The code (<see cref="CniCodes.InvalidNetworkConfig"/> or
    /// <see cref="CniCodes.UnsupportedField"/>, <see cref="CniCodes.InvalidEnvironment"/>).</param>
    /// <param name="what">What was read (<c>network configuration</c>).</param>
    /// <param name="errors">Every bad field with what is wrong.</param>
    public static CniException Fields(int code, string what, IReadOnlyList<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var message = $"invalid {what}, nothing was changed: " + string.Join("; ", errors.Select(e => e.Field + ": " + e.Message));
        return new CniException(code, message, string.Join("\n", errors.Select(e => e.Field + ": " + e.Message)));
    }
}

/// <summary>One bad field.</summary>
/// <param name="Field">The field as written in the input (<c>listenPort</c>, <c>peers[0].publicKey</c>,
/// <c>CNI_IFNAME</c>).</param>
/// <param name="Message">What is wrong and what is allowed.</param>
public sealed record FieldError(string Field, string Message);
