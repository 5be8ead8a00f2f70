using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Labs;

/// <summary>
/// What the kernel holds for a lab, read in one go: every node namespace's links (one dump each, the namespaces in
/// parallel), and, on demand, the nsid by which one namespace knows another (a veth's peer is named by ifindex plus
/// that nsid). A namespace that cannot be opened is recorded as missing, with why. Disposing closes every descriptor.
/// </summary>
internal sealed class LabObservation : IDisposable
{
    private readonly Dictionary<string, NetworkNamespace> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NetlinkHandle> _handles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, Link>> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _missing = new(StringComparer.Ordinal);
    private readonly Dictionary<(string From, string To), int> _nsIds = [];
    private readonly Lock _lock = new();

    private LabObservation()
    {
    }

    /// <summary>The name under which the host's namespace (this process's) is read.</summary>
    public const string Host = "";

    /// <summary>Namespaces that could not be opened, with why.</summary>
    public IReadOnlyDictionary<string, string> Missing => _missing;

    /// <summary>Reads the links of every namespace in <paramref name="namespaces"/>.</summary>
    public static async Task<LabObservation> ReadAsync(IEnumerable<string> namespaces, CancellationToken cancellationToken)
    {
        var observation = new LabObservation();
        try
        {
            var names = namespaces.Distinct(StringComparer.Ordinal).ToArray();
            var read = new (NetworkNamespace? Ns, NetlinkHandle? Handle, IReadOnlyList<Link>? Links, string? Why)[names.Length];
            await Parallel.ForAsync(0, names.Length, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount * 4 }, async (i, ct) =>
            {
                NetworkNamespace? ns = null;
                NetlinkHandle? handle = null;
                try
                {
                    ns = names[i].Length == 0 ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(names[i]);
                    handle = NetlinkHandle.OpenAt(ns);
                    read[i] = (ns, handle, await handle.ListLinksAsync(ct).ConfigureAwait(false), null);
                }
                catch (Exception ex) when (ex is NetlinkException or IOException or InvalidOperationException)
                {
                    handle?.Dispose();
                    ns?.Dispose();
                    read[i] = (null, null, null, ex.Message);
                }
            }).ConfigureAwait(false);
            for (var i = 0; i < names.Length; i++)
            {
                if (read[i].Why is { } why)
                {
                    observation._missing[names[i]] = why;
                    continue;
                }

                observation._namespaces[names[i]] = read[i].Ns!;
                observation._handles[names[i]] = read[i].Handle!;
                observation._links[names[i]] = read[i].Links!.ToDictionary(l => l.Name, StringComparer.Ordinal);
            }

            return observation;
        }
        catch
        {
            observation.Dispose();
            throw;
        }
    }

    /// <summary>The link named <paramref name="name"/> in <paramref name="ns"/>, or null (also when the namespace is
    /// missing).</summary>
    public Link? Find(string ns, string name) =>
        _links.TryGetValue(ns, out var links) && links.TryGetValue(name, out var link) ? link : null;

    /// <summary>Whether <paramref name="ns"/> was read.</summary>
    public bool Has(string ns) => _links.ContainsKey(ns);

    /// <summary>The nsid by which <paramref name="from"/> knows <paramref name="to"/>, or <see cref="NsId.NotAssigned"/>.</summary>
    public async Task<int> NsIdAsync(string from, string to, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_nsIds.TryGetValue((from, to), out var known))
            {
                return known;
            }
        }

        var id = await _handles[from].GetNsIdAsync(_namespaces[to], cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _nsIds[(from, to)] = id;
        }

        return id;
    }

    /// <summary>A namespace that was read.</summary>
    public NetworkNamespace NamespaceOf(string ns) => _namespaces[ns];

    /// <summary>The handle of a namespace that was read.</summary>
    public NetlinkHandle HandleOf(string ns) => _handles[ns];

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var handle in _handles.Values)
        {
            handle.Dispose();
        }

        foreach (var ns in _namespaces.Values)
        {
            ns.Dispose();
        }
    }
}
