using System.Globalization;
using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.TestSupport;

namespace Aether.Ovsdb.Tests.Infrastructure;

/// <summary>
/// A test with its own Open vSwitch (<see cref="PrivateOvs"/>: ovsdb-server and ovs-vswitchd in a temporary
/// directory, ovs-vswitchd in a namespace of its own), a client connected to it, and a sandbox for the test's
/// namespaces. Everything is named with the sandbox's token and removed after the test, also when it fails.
/// <c>ovs-vsctl</c> on the private socket is the oracle.
/// </summary>
public abstract class OvsTest : IAsyncLifetime
{
    protected Sandbox Box { get; } = new();

    protected PrivateOvs Ovs { get; private set; } = null!;

    protected OvsdbClient Client { get; private set; } = null!;

    protected OpenVSwitchDatabase Database { get; private set; } = null!;

    protected OvsdbEndpoint Endpoint => OvsdbEndpoint.Unix(Ovs.SocketPath);

    /// <summary>This test's owner mark.</summary>
    protected string Owner => Box.Token;

    public async Task InitializeAsync()
    {
        try
        {
            Ovs = await PrivateOvs.StartAsync(Box.Token);
            Client = await OvsdbClient.ConnectAsync(Endpoint);
            Database = new OpenVSwitchDatabase(Client);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Client is not null)
            {
                await Client.DisposeAsync();
            }

            if (Ovs is not null)
            {
                await Ovs.DisposeAsync();
            }
        }
        finally
        {
            await Box.DisposeAsync();
        }
    }

    /// <summary><c>ovs-vsctl ARGS</c>, trimmed.</summary>
    protected async Task<string> Vsctl(params string[] args) => (await Ovs.VsctlAsync(args)).Trim();

    /// <summary>A port's tag as ovs-vsctl prints it: the number, or null for <c>[]</c>.</summary>
    protected async Task<int?> TagOf(string port)
    {
        var text = await Vsctl("get", "port", port, "tag");
        return text == "[]" ? null : int.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary><c>ovs-vsctl list-ports BRIDGE</c> (the bridge's own internal port is not listed).</summary>
    protected async Task<string[]> PortsOf(string bridge) =>
        (await Vsctl("list-ports", bridge)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>An <c>external_ids</c> key of a row, or null (ovs-vsctl's <c>--if-exists get</c>).</summary>
    protected async Task<string?> ExternalId(string table, string row, string key)
    {
        var text = await Vsctl("--if-exists", "get", table, row, "external_ids:" + key);
        return text.Length == 0 ? null : text.Trim('"');
    }

    /// <summary>The bridges, sorted (<c>ovs-vsctl list-br</c>).</summary>
    protected async Task<string[]> Bridges() =>
        (await Vsctl("list-br")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="seconds"/> pass.</summary>
    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }
    }
}
