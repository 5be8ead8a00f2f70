using System.Security.Cryptography;
using System.Text;
using Aether.Netlink.Namespaces;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// What one test owns: a unique token (<c>aet</c> + 5 random characters) that prefixes every namespace and link
/// name it makes, the namespaces it created, the host links it created, and the handles it opened. Disposing closes
/// the handles first (an open namespace fd keeps the namespace and its veths alive), then deletes the host links and
/// the namespaces with <c>ip</c>, whatever state the test left them in.
/// </summary>
public sealed class Sandbox : IAsyncDisposable
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly List<string> _namespaces = [];
    private readonly List<string> _hostLinks = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Lock _lock = new();

    public Sandbox()
    {
        Token = "aet" + RandomNumberGenerator.GetString(Alphabet, 5);
    }

    /// <summary>The unique prefix: every object this test makes starts with it.</summary>
    public string Token { get; }

    /// <summary><see cref="Token"/> + <paramref name="suffix"/>, checked to fit an interface name (15 bytes).</summary>
    public string Name(string suffix)
    {
        var name = Token + suffix;
        if (Encoding.UTF8.GetByteCount(name) > 15)
        {
            throw new ArgumentException($"test name '{name}' is over 15 bytes", nameof(suffix));
        }

        return name;
    }

    /// <summary>Creates a named namespace through Aether and tracks it for deletion.</summary>
    public NetworkNamespace CreateNamespace(string suffix)
    {
        var name = Name(suffix);
        TrackNamespace(name);
        return Own(NetworkNamespace.Create(name));
    }

    /// <summary>Creates a named namespace with <c>ip netns add</c> and tracks it for deletion.</summary>
    public async Task<string> CreateNamespaceWithIpAsync(string suffix)
    {
        var name = Name(suffix);
        TrackNamespace(name);
        await Ip.RunAsync("netns", "add", name);
        return name;
    }

    /// <summary>Deletes <paramref name="name"/> at the end if it exists then.</summary>
    public void TrackNamespace(string name)
    {
        lock (_lock)
        {
            _namespaces.Add(name);
        }
    }

    /// <summary>Deletes the host-namespace link <paramref name="name"/> at the end if it exists then.</summary>
    public string TrackHostLink(string name)
    {
        if (!name.StartsWith("aet", StringComparison.Ordinal))
        {
            throw new ArgumentException($"host link '{name}' does not carry the test prefix", nameof(name));
        }

        lock (_lock)
        {
            _hostLinks.Add(name);
        }

        return name;
    }

    /// <summary>Disposes <paramref name="item"/> before the namespaces are deleted.</summary>
    public T Own<T>(T item)
        where T : IDisposable
    {
        lock (_lock)
        {
            _owned.Add(item);
        }

        return item;
    }

    /// <summary>Opens a handle in <paramref name="ns"/>, closed at the end.</summary>
    public NetlinkHandle OpenAt(NetworkNamespace ns) => Own(NetlinkHandle.OpenAt(ns));

    public async ValueTask DisposeAsync()
    {
        List<Exception> errors = [];
        IDisposable[] owned;
        string[] hostLinks, namespaces;
        lock (_lock)
        {
            owned = [.. _owned];
            hostLinks = [.. _hostLinks];
            namespaces = [.. _namespaces];
            _owned.Clear();
            _hostLinks.Clear();
            _namespaces.Clear();
        }

        for (var i = owned.Length - 1; i >= 0; i--)
        {
            try
            {
                owned[i].Dispose();
            }
            catch (Exception ex)
            {
                errors.Add(ex);
            }
        }

        foreach (var link in hostLinks.Distinct(StringComparer.Ordinal))
        {
            var (code, _, _) = await Ip.TryRunAsync("link", "show", "dev", link);
            if (code == 0)
            {
                var (del, _, err) = await Ip.TryRunAsync("link", "del", "dev", link);
                if (del != 0 && !err.Contains("Cannot find device", StringComparison.Ordinal)) // gone meanwhile (with its namespace)
                {
                    errors.Add(new InvalidOperationException($"cleanup: ip link del {link}: {err.Trim()}"));
                }
            }
        }

        await Parallel.ForEachAsync(namespaces.Distinct(StringComparer.Ordinal), async (ns, _) =>
        {
            if (!File.Exists(NetworkNamespace.RunDirectory + "/" + ns))
            {
                return;
            }

            var (del, _, err) = await Ip.TryRunAsync("netns", "del", ns);
            if (del != 0)
            {
                lock (errors)
                {
                    errors.Add(new InvalidOperationException($"cleanup: ip netns del {ns}: {err.Trim()}"));
                }
            }
        });

        if (errors.Count > 0)
        {
            throw new AggregateException("sandbox cleanup failed", errors);
        }
    }
}

/// <summary>Base class: a fresh <see cref="Sandbox"/> per test (xunit makes one instance per test), cleaned up even when
/// the test fails.</summary>
public abstract class SandboxTest : IAsyncLifetime
{
    protected Sandbox Box { get; } = new();

    public async Task InitializeAsync()
    {
        try
        {
            await SetUpAsync();
        }
        catch
        {
            // A half-made setup is cleaned up here too, whatever the runner does next.
            await Box.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await TearDownAsync();
        }
        finally
        {
            await Box.DisposeAsync();
        }
    }

    /// <summary>Per-test setup; what it makes through <see cref="Box"/> is cleaned up even when it fails.</summary>
    protected virtual Task SetUpAsync() => Task.CompletedTask;

    /// <summary>Per-test teardown before the sandbox's objects go (stop what runs in its namespaces).</summary>
    protected virtual Task TearDownAsync() => Task.CompletedTask;
}
