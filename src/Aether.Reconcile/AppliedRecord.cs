using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aether.Reconcile;

/// <summary>One thing a source applied: the value it set and, for objects that existed before (sysctls), the value
/// found there first, so it can be restored on release.</summary>
/// <param name="Value">What was applied.</param>
/// <param name="Original">What was there before, or null when the source created the object.</param>
public sealed record AppliedEntry(string Value, string? Original = null);

/// <summary>
/// The last-applied record: what a source has applied, by key (<c>address eth0 10.0.0.1/24</c>,
/// <c>sysctl net/ipv4/ip_forward</c>). Objects the kernel cannot mark (addresses, sysctls) are owned when, and only
/// when, they are in the record. Kept in memory, and written through to a JSON file when one is given, so that a
/// restarted controller still knows what it owns. Safe to use from several threads.
/// </summary>
public sealed class AppliedRecord
{
    private readonly Dictionary<string, AppliedEntry> _entries;
    private readonly Lock _lock;
    private readonly AppliedRecordStore? _store;

    private AppliedRecord(string? path, Dictionary<string, AppliedEntry> entries)
    {
        FilePath = path;
        _entries = entries;
        _lock = new Lock();
    }

    /// <summary>A section of <paramref name="store"/>: it shares the store's lock and file.</summary>
    internal AppliedRecord(AppliedRecordStore store, Dictionary<string, AppliedEntry> entries, Lock storeLock)
    {
        FilePath = store.FilePath;
        _entries = entries;
        _lock = storeLock;
        _store = store;
    }

    /// <summary>The file the record is written through to, or null for a record kept in memory only.</summary>
    public string? FilePath { get; }

    /// <summary>The number of entries.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>An empty record kept in memory only (it is forgotten when the process ends).</summary>
    public static AppliedRecord InMemory() => new(null, new Dictionary<string, AppliedEntry>(StringComparer.Ordinal));

    /// <summary>Opens the record kept in <paramref name="path"/>: read when the file exists, empty when it does not.
    /// Every change is written to it (a new file renamed over the old one, so a crash leaves the old or the new
    /// record, never half of one).</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a record.</exception>
    public static AppliedRecord Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return new AppliedRecord(full, new Dictionary<string, AppliedEntry>(StringComparer.Ordinal));
        }

        try
        {
            return new AppliedRecord(full, AppliedRecordReader.ReadEntries(File.ReadAllBytes(full), full));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{full}: not a last-applied record: {ex.Message}", ex);
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the record, and its entry.</summary>
    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AppliedEntry? entry)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(key, out entry);
        }
    }

    /// <summary>A copy of the entries, for a pure diff.</summary>
    public IReadOnlyDictionary<string, AppliedEntry> Snapshot()
    {
        lock (_lock)
        {
            return new Dictionary<string, AppliedEntry>(_entries, StringComparer.Ordinal);
        }
    }

    /// <summary>Records that <paramref name="key"/> was applied.</summary>
    public void Set(string key, AppliedEntry entry)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var old) && old == entry)
            {
                return;
            }

            _entries[key] = entry;
            Save();
        }
    }

    /// <summary>Records several entries with one write of the file (a thousand namespaces: one write, not a
    /// thousand).</summary>
    public void SetMany(IEnumerable<KeyValuePair<string, AppliedEntry>> entries) => SetMany(entries, writeNow: true);

    /// <summary>Records several entries now, and writes them with the store's next write instead of one of their own:
    /// for entries whose loss in a crash before that write is harmless (what the kernel itself can prove again). A
    /// record of its own file, not in a store, writes at once.</summary>
    public void SetManyWithNextWrite(IEnumerable<KeyValuePair<string, AppliedEntry>> entries) => SetMany(entries, writeNow: _store is null);

    private void SetMany(IEnumerable<KeyValuePair<string, AppliedEntry>> entries, bool writeNow)
    {
        ArgumentNullException.ThrowIfNull(entries);
        lock (_lock)
        {
            var changed = false;
            foreach (var (key, entry) in entries)
            {
                ArgumentException.ThrowIfNullOrEmpty(key);
                ArgumentNullException.ThrowIfNull(entry);
                if (!_entries.TryGetValue(key, out var old) || old != entry)
                {
                    _entries[key] = entry;
                    changed = true;
                }
            }

            if (changed && writeNow)
            {
                Save();
            }
            else if (changed)
            {
                _store!.ChangedLater();
            }
        }
    }

    /// <summary>Forgets <paramref name="key"/>; false when it was not there.</summary>
    public bool Remove(string key)
    {
        lock (_lock)
        {
            if (!_entries.Remove(key))
            {
                return false;
            }

            Save();
            return true;
        }
    }

    private void Save()
    {
        if (_store is not null)
        {
            _store.Changed(); // under the store's lock, which is ours
            return;
        }

        if (FilePath is null)
        {
            return;
        }

        WriteAtomically(FilePath, stream => JsonSerializer.Serialize(stream, _entries, AppliedRecordJson.Default.DictionaryStringAppliedEntry));
    }

    /// <summary>Writes <paramref name="path"/> through a temporary file flushed to disk and renamed over it: a crash
    /// leaves the old file or the new one, never half of one.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>What a source does with an object it wants that exists but is not its own.</summary>
public enum ConflictPolicy
{
    /// <summary>Report a conflict and leave the object alone (the default).</summary>
    Report,

    /// <summary>Take the object over: mark or record it as owned, then manage it like one's own. Explicit only.</summary>
    Adopt,
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(Dictionary<string, AppliedEntry>))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, AppliedEntry>>))]
internal sealed partial class AppliedRecordJson : JsonSerializerContext
{
}
