using System.Net;
using Aether.Netlink.Names;

namespace Aether.Cni;

/// <summary>The CNI commands this plugin answers.</summary>
public enum CniCommand
{
    /// <summary><c>ADD</c>: attach the container.</summary>
    Add,

    /// <summary><c>DEL</c>: detach it (succeeds when it is already gone).</summary>
    Del,

    /// <summary><c>CHECK</c>: verify the attachment in the daemon and in the container's namespace.</summary>
    Check,

    /// <summary><c>VERSION</c>: the versions this plugin speaks.</summary>
    Version,
}

/// <summary>
/// What the runtime passes in the environment (CNI 1.0, "Parameters"), checked: every bad variable is named at once
/// (code 4). <c>CNI_PATH</c> is read but not needed: this plugin delegates to no other plugin.
/// </summary>
/// <param name="Command"><c>CNI_COMMAND</c>.</param>
/// <param name="ContainerId"><c>CNI_CONTAINERID</c> (null for VERSION).</param>
/// <param name="Netns"><c>CNI_NETNS</c>: the path of the container's network namespace (may be missing for DEL).</param>
/// <param name="IfName"><c>CNI_IFNAME</c>: the interface to create inside the container.</param>
/// <param name="Address">An address asked for in <c>CNI_ARGS</c> (<c>IP=10.1.0.5</c>), or null.</param>
public sealed record CniEnvironment(CniCommand Command, string? ContainerId, string? Netns, string? IfName, IPAddress? Address)
{
    /// <summary>Reads and checks the variables from <paramref name="get"/> (the process environment).</summary>
    /// <exception cref="CniException">Code 4 naming every bad variable.</exception>
    public static CniEnvironment Read(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var errors = new List<FieldError>();
        var commandText = get("CNI_COMMAND");
        CniCommand? command = commandText switch
        {
            "ADD" => CniCommand.Add,
            "DEL" => CniCommand.Del,
            "CHECK" => CniCommand.Check,
            "VERSION" => CniCommand.Version,
            _ => null,
        };
        if (command is null)
        {
            errors.Add(new FieldError("CNI_COMMAND", (commandText is null ? "is not set" : $"'{NameText.Printable(commandText)}' is not a command") + ": it must be ADD, DEL, CHECK or VERSION"));
            throw CniException.Fields(CniCodes.InvalidEnvironment, "environment", errors);
        }

        if (command == CniCommand.Version)
        {
            return new CniEnvironment(CniCommand.Version, null, null, null, null);
        }

        var containerId = get("CNI_CONTAINERID");
        if (string.IsNullOrEmpty(containerId))
        {
            errors.Add(new FieldError("CNI_CONTAINERID", "is not set: it must name the container"));
        }
        else if (!ValidContainerId(containerId))
        {
            errors.Add(new FieldError("CNI_CONTAINERID", $"'{NameText.Printable(containerId)}' is not allowed: it must start with a letter or digit, then letters, digits, _ . or -"));
        }

        var netns = get("CNI_NETNS");
        if (string.IsNullOrEmpty(netns))
        {
            if (command != CniCommand.Del)
            {
                errors.Add(new FieldError("CNI_NETNS", "is not set: it must be the path of the container's network namespace (/run/netns/NAME, /proc/PID/ns/net)"));
            }

            netns = null;
        }
        else if (!netns.StartsWith('/') || netns.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add(new FieldError("CNI_NETNS", $"'{NameText.Printable(netns)}' is not an absolute path: it must be the path of the container's network namespace"));
        }

        var ifName = get("CNI_IFNAME");
        if (string.IsNullOrEmpty(ifName))
        {
            errors.Add(new FieldError("CNI_IFNAME", "is not set: it must name the interface to create in the container (eth0)"));
        }
        else if (!InterfaceNameRule.IsValid(ifName, out var why))
        {
            errors.Add(new FieldError("CNI_IFNAME", why));
        }

        var address = ReadArgs(get("CNI_ARGS"), errors);
        if (errors.Count > 0)
        {
            throw CniException.Fields(CniCodes.InvalidEnvironment, "environment", errors);
        }

        return new CniEnvironment(command.Value, containerId, netns, ifName, address);
    }

    /// <summary>The spec's rule for a container id: an alphanumeric, then alphanumerics, <c>_ . -</c>.</summary>
    internal static bool ValidContainerId(string id) =>
        id.Length > 0 && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary><c>CNI_ARGS</c>: <c>KEY=VALUE</c> pairs separated by <c>;</c>. <c>IP</c> asks for the container's
    /// address; any other key is refused unless <c>IgnoreUnknown</c> is <c>1</c> or <c>true</c> (the convention of
    /// the reference plugins).</summary>
    private static IPAddress? ReadArgs(string? text, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var pairs = new List<(string Key, string Value)>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                errors.Add(new FieldError("CNI_ARGS", $"'{NameText.Printable(part)}' is not KEY=VALUE: it must be pairs KEY=VALUE separated by ;"));
                continue;
            }

            pairs.Add((part[..eq], part[(eq + 1)..]));
        }

        var ignoreUnknown = pairs.Any(p => string.Equals(p.Key, "IgnoreUnknown", StringComparison.Ordinal) && (string.Equals(p.Value, "1", StringComparison.Ordinal) || p.Value.Equals("true", StringComparison.OrdinalIgnoreCase)));
        IPAddress? address = null;
        foreach (var (key, value) in pairs)
        {
            if (string.Equals(key, "IP", StringComparison.Ordinal))
            {
                if (!IPAddress.TryParse(value, out address) || value.Contains('/', StringComparison.Ordinal) || value.Contains('%', StringComparison.Ordinal))
                {
                    errors.Add(new FieldError("CNI_ARGS", $"IP='{NameText.Printable(value)}' is not an IP address: it must be one address of the network (10.1.0.5)"));
                }
            }
            else if (!string.Equals(key, "IgnoreUnknown", StringComparison.Ordinal) && !ignoreUnknown)
            {
                errors.Add(new FieldError("CNI_ARGS", $"'{NameText.Printable(key)}' is not a known key: the keys are IP and IgnoreUnknown (IgnoreUnknown=1 lets others pass)"));
            }
        }

        return address;
    }
}
