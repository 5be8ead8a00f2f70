using Aether.Labs;

namespace Aether.Labs.Tests.Fabric;

/// <summary>An <see cref="ILabStore"/> in memory for the engine's tests, with the store's semantics (new links pending,
/// stored ones keep their state, removed ones go). The real store is tested on SQLite and PostgreSQL on its own.</summary>
internal sealed class MemoryLabStore : ILabStore
{
    private readonly Dictionary<string, (StoredLab Lab, List<LinkState> Links, List<InterfaceMapping> Mappings)> _labs = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task MigrateAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task SaveLabAsync(LabSpec lab, string definition, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = DateTimeOffset.UtcNow;
            var known = _labs.TryGetValue(lab.Name, out var was) ? was.Links.ToDictionary(l => l.Id) : [];
            var links = lab.Links.Select(l => known.TryGetValue(l.Id, out var s) ? s : new LinkState(l.Id, l.A, l.B, LinkStatus.Pending) { Mtu = l.Mtu, Created = now }).ToList();
            _labs[lab.Name] = (new StoredLab(lab.Name, lab.Fabric, definition, lab.SourcePath, was.Lab?.Created ?? now), links, was.Mappings ?? []);
        }

        return Task.CompletedTask;
    }

    public Task<StoredLab?> GetLabAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_labs.TryGetValue(name, out var lab) ? lab.Lab : null);
        }
    }

    public Task<IReadOnlyList<StoredLab>> ListLabsAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<StoredLab>>([.. _labs.Values.Select(l => l.Lab).OrderBy(l => l.Name, StringComparer.Ordinal)]);
        }
    }

    public Task<bool> DeleteLabAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_labs.Remove(name));
        }
    }

    public Task<IReadOnlyList<LinkState>> GetLinksAsync(string lab, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<LinkState>>(_labs.TryGetValue(lab, out var l) ? [.. l.Links] : []);
        }
    }

    public Task SetLinkStatesAsync(string lab, IReadOnlyList<LinkState> states, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var links = _labs[lab].Links;
            foreach (var state in states)
            {
                var i = links.FindIndex(l => l.Id == state.Id);
                if (i >= 0)
                {
                    links[i] = state;
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InterfaceMapping>> GetMappingsAsync(string lab, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<InterfaceMapping>>(_labs.TryGetValue(lab, out var l) ? [.. l.Mappings] : []);
        }
    }

    public Task SetMappingsAsync(string lab, IReadOnlyList<InterfaceMapping> mappings, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var l = _labs[lab];
            _labs[lab] = l with { Mappings = [.. mappings] };
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
