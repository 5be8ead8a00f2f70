namespace Aether.Ovsdb;

/// <summary>
/// Where ovsdb-server listens: a unix socket, written as Open vSwitch writes it (<c>unix:/var/run/openvswitch/db.sock</c>).
/// </summary>
public sealed record OvsdbEndpoint
{
    /// <summary>Where Debian's (and upstream's default) ovsdb-server listens.</summary>
    public const string DefaultSocketPath = "/var/run/openvswitch/db.sock";

    private OvsdbEndpoint(string socketPath) => SocketPath = socketPath;

    /// <summary>The system's ovsdb-server: <c>unix:/var/run/openvswitch/db.sock</c>.</summary>
    public static OvsdbEndpoint Default { get; } = new(DefaultSocketPath);

    /// <summary>The socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>A unix socket at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The path is empty or relative.</exception>
    public static OvsdbEndpoint Unix(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Path.IsPathRooted(path))
        {
            throw new ArgumentException($"ovsdb socket path '{path}' is not absolute", nameof(path));
        }

        return new OvsdbEndpoint(path);
    }

    /// <summary>Parses <c>unix:PATH</c> (the form <c>ovs-vsctl --db</c> takes); a bare absolute path is taken as a
    /// unix socket too.</summary>
    /// <exception cref="FormatException">Another kind of remote (<c>tcp:</c>, <c>ssl:</c>), which this client does not
    /// speak, or no path.</exception>
    public static OvsdbEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            text = text["unix:".Length..];
        }
        else if (!text.StartsWith('/'))
        {
            throw new FormatException($"ovsdb endpoint '{text}': only unix:PATH is supported");
        }

        if (!Path.IsPathRooted(text))
        {
            throw new FormatException($"ovsdb endpoint 'unix:{text}': the path must be absolute");
        }

        return new OvsdbEndpoint(text);
    }

    /// <summary><c>unix:PATH</c>.</summary>
    public override string ToString() => "unix:" + SocketPath;
}
