using System.Text.Json;

namespace Aether.Reconcile;

/// <summary>
/// Many last-applied records in one file: a section per source (<c>netns blue addresses</c>), so that a controller of
/// a thousand namespaces keeps one file, not three thousand (creating and fsyncing that many small files cost more
/// than the kernel work of an apply). Writes are atomic, as for a single <see cref="AppliedRecord"/> (a new file
/// renamed over the old one), and can be deferred: inside <see cref="Defer"/>, changes from any thread are written
/// once, when the last deferral ends.
/// </summary>
public sealed class AppliedRecordStore
{
    private readonly Dictionary<string, Dictionary<string, AppliedEntry>> _sections;
    private readonly Dictionary<string, AppliedRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _deferrals;
    private bool _dirty;

    private AppliedRecordStore(string path, Dictionary<string, Dictionary<string, AppliedEntry>> sections)
    {
        FilePath = path;
        _sections = sections;
    }

    /// <summary>The store's file.</summary>
    public string FilePath { get; }

    /// <summary>Opens the store kept in <paramref name="path"/>: read when the file exists, empty when it does not.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a store of records.</exception>
    public static AppliedRecordStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return new AppliedRecordStore(full, new Dictionary<string, Dictionary<string, AppliedEntry>>(StringComparer.Ordinal));
        }

        try
        {
            return new AppliedRecordStore(full, AppliedRecordReader.ReadSections(File.ReadAllBytes(full), full));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{full}: not a store of last-applied records: {ex.Message}", ex);
        }
    }

    /// <summary>Whether section <paramref name="name"/> holds any entry, without making the section (a caller that
    /// only needs a source where something is recorded asks this first).</summary>
    public bool Holds(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_lock)
        {
            return _sections.TryGetValue(name, out var entries) && entries.Count > 0;
        }
    }

    /// <summary>The record kept in section <paramref name="name"/> (the same instance for the same name).</summary>
    public AppliedRecord Section(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_lock)
        {
            if (!_records.TryGetValue(name, out var record))
            {
                if (!_sections.TryGetValue(name, out var entries))
                {
                    entries = new Dictionary<string, AppliedEntry>(StringComparer.Ordinal);
                    _sections[name] = entries;
                }

                record = new AppliedRecord(this, entries, _lock);
                _records[name] = record;
            }

            return record;
        }
    }

    /// <summary>Holds writes back until the returned scope (and every other deferral) ends, then writes once if
    /// anything changed. Use it around work whose record changes need not be durable one by one.</summary>
    public Deferral Defer()
    {
        lock (_lock)
        {
            _deferrals++;
        }

        return new Deferral(this);
    }

    /// <summary>Called by a section, under the store's lock, after it changed.</summary>
    internal void Changed()
    {
        if (_deferrals > 0)
        {
            _dirty = true;
            return;
        }

        Save();
    }

    /// <summary>Called by a section, under the store's lock, after it changed in memory only: the next write carries
    /// it.</summary>
    internal void ChangedLater() => _dirty = true;

    private void EndDeferral()
    {
        lock (_lock)
        {
            if (--_deferrals == 0 && _dirty)
            {
                _dirty = false;
                Save();
            }
        }
    }

    private void Save()
    {
        var nonEmpty = _sections.Where(s => s.Value.Count > 0).ToDictionary(StringComparer.Ordinal);
        AppliedRecord.WriteAtomically(FilePath, stream => JsonSerializer.Serialize(stream, nonEmpty, AppliedRecordJson.Default.DictionaryStringDictionaryStringAppliedEntry));
    }

    /// <summary>A deferral of writes; disposing ends it (the last one writes).</summary>
    public sealed class Deferral : IDisposable
    {
        private AppliedRecordStore? _store;

        internal Deferral(AppliedRecordStore store) => _store = store;

        /// <inheritdoc/>
        public void Dispose() => Interlocked.Exchange(ref _store, null)?.EndDeferral();
    }
}
