using System.Globalization;
using System.Net;
using Aether.Hub;
using Aether.Netlink.Names;
using Microsoft.Extensions.Options;

namespace Aether.Server;

/// <summary>Checks <see cref="ServerOptions"/> when the host starts (<c>ValidateOnStart</c>): every problem at once,
/// each naming the setting and the rule, before anything is created. <c>aether serve</c> runs the same checks before
/// it builds the app, so that its answer is exit 2 with the flag named.</summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Every problem of <paramref name="options"/>.</summary>
    public static IEnumerable<string> Problems(ServerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SocketPath))
        {
            yield return "SocketPath (--socket): is required";
        }

        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            yield return "DatabasePath (--db): is required";
        }

        if (ListenerProblem(options) is { } listener)
        {
            yield return listener;
        }

        if (options.Hub is null && !InterfaceNameRule.IsValid(options.WireGuardPrefix + HubNetworkSpec.MaxIndex.ToString(CultureInfo.InvariantCulture), out var badPrefix))
        {
            yield return $"WireGuardPrefix (--wireguard-prefix) '{options.WireGuardPrefix}': the largest device name would be {badPrefix}";
        }

        if (options.HubResync <= TimeSpan.Zero)
        {
            yield return $"HubResync (--hub-resync): must be more than 0, not {options.HubResync}";
        }
    }

    /// <summary>What is wrong with the TCP listener (loopback, http, no path, with a token file), or null.</summary>
    public static string? ListenerProblem(ServerOptions options)
    {
        if (options.Listen is not { } listen)
        {
            return null;
        }

        if (!listen.IsAbsoluteUri || !string.Equals(listen.Scheme, Uri.UriSchemeHttp, StringComparison.Ordinal))
        {
            return $"--listen {listen}: must be http://127.0.0.1:PORT (or http://[::1]:PORT)";
        }

        if (!IPAddress.TryParse(listen.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
        {
            return $"--listen {listen}: only a loopback address (127.0.0.0/8, ::1) may be given; the API has no TLS";
        }

        if (!string.Equals(listen.AbsolutePath, "/", StringComparison.Ordinal) || listen.Query.Length > 0)
        {
            return $"--listen {listen}: an address and port only, no path";
        }

        return options.TokenFile is null
            ? $"--listen {listen} needs --token-file: requests over TCP must present a bearer token"
            : null;
    }
}
