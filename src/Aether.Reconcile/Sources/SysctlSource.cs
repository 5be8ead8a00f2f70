using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Reconcile.Sources;

/// <summary>A sysctl Aether should keep in one namespace.</summary>
/// <param name="Key">The key as sysctl(8) takes it: <c>net.ipv4.ip_forward</c> or <c>net/ipv4/conf/eth0.100/forwarding</c>
/// (only keys below <c>net</c>: the others are not per namespace).</param>
/// <param name="Value">The value; several fields are separated by whitespace (<c>1024 65000</c>).</param>
public sealed record DesiredSysctl(string Key, string Value);

/// <summary>Options of a <see cref="SysctlSource"/>.</summary>
public sealed record SysctlSourceOptions
{
    /// <summary>When a key is no longer desired, and on <see cref="SysctlSource.ReleaseAsync"/>, write back the value
    /// found before Aether first changed it. Off by default: the value is left as it is, and only forgotten.</summary>
    public bool RestoreOnRelease { get; init; }
}

/// <summary>What <see cref="SysctlSource"/> reads.</summary>
/// <param name="Values">By normalised key (<c>net/ipv4/ip_forward</c>), for every desired or recorded key: the
/// current value, or null when there is no such entry (yet: an interface's entries appear with it).</param>
/// <param name="Record">The source's entries of the last-applied record, by record key (<c>sysctl net/ipv4/ip_forward</c>).</param>
public sealed record SysctlObservation(IReadOnlyDictionary<string, string?> Values, IReadOnlyDictionary<string, AppliedEntry> Record);

/// <summary>An operation on a sysctl, with what it needs to run.</summary>
/// <param name="Kind"><see cref="OperationKind.Update"/> to write the desired value (also for an entry that does not
/// exist yet: applying it fails, to be retried), <see cref="OperationKind.Delete"/> to release a key no longer desired.</param>
/// <param name="Key">The sysctl, by its dotted key.</param>
/// <param name="Reason">Why.</param>
/// <param name="SysctlKey">The normalised key (<c>net/ipv4/ip_forward</c>).</param>
/// <param name="Value">The value to write: the desired one (update), the original to restore (delete), or null for
/// a delete that only forgets.</param>
public sealed record SysctlOperation(OperationKind Kind, ObjectKey Key, string Reason, string SysctlKey, string? Value)
    : Operation(Kind, Stage.Sysctls, Key, Reason);

/// <summary>
/// Sysctls below <c>/proc/sys/net</c> in one namespace: writes the desired values and puts them back when they drift.
/// <para>
/// The kernel cannot mark a sysctl, so what this source owns is what its last-applied record says, under keys
/// <c>sysctl net/ipv4/ip_forward</c> (one record per namespace: the keys do not name it). The first write of a key
/// records the value found before it as the entry's <see cref="AppliedEntry.Original"/>; later writes keep that one.
/// A desired key whose value is already right is left alone and not recorded. A recorded key that is no longer desired
/// is restored to its original (with <see cref="SysctlSourceOptions.RestoreOnRelease"/>) and forgotten.
/// </para>
/// <para>
/// Entries are opened inside the namespace once and kept open, so a pass that finds nothing to do is one
/// <c>pread</c> per key; an entry that went away (its interface was deleted) is opened again on the next pass.
/// Disposing closes them.
/// </para>
/// </summary>
public sealed class SysctlSource : Source<SysctlObservation, SysctlOperation>, IDisposable
{
    /// <summary>The prefix of this source's keys in the last-applied record.</summary>
    public const string RecordPrefix = "sysctl ";

    private readonly NetworkNamespace _ns;
    private readonly AppliedRecord _record;
    private readonly SysctlSourceOptions _options;
    private readonly (string Key, string Value)[] _desired;
    private readonly Dictionary<string, Sysctl> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly string _where;
    private bool _disposed;

    /// <summary>Creates the source for <paramref name="ns"/>. Nothing is opened until the first pass.</summary>
    /// <exception cref="ArgumentException">A key or value is invalid, or a key is desired twice (also when spelt
    /// differently: <c>net.ipv4.ip_forward</c> and <c>net/ipv4/ip_forward</c> are one key).</exception>
    public SysctlSource(NetworkNamespace ns, AppliedRecord record, IReadOnlyList<DesiredSysctl> desired, SysctlSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(desired);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var list = new List<(string Key, string Value)>(desired.Count);
        foreach (var want in desired)
        {
            if (want is null)
            {
                throw new ArgumentException("a desired sysctl is null", nameof(desired));
            }

            if (want.Key is null)
            {
                throw new ArgumentException("a desired sysctl has no key", nameof(desired));
            }

            if (!Sysctl.TryNormalizeKey(want.Key, out var key, out var why))
            {
                throw new ArgumentException($"sysctl '{want.Key}': invalid key: {why}", nameof(desired));
            }

            if (string.IsNullOrWhiteSpace(want.Value) || want.Value.AsSpan().IndexOfAny('\0', '\n', '\r') >= 0)
            {
                throw new ArgumentException($"sysctl '{want.Key}': invalid value '{want.Value}': must be one non-blank line without NUL", nameof(desired));
            }

            if (!keys.TryAdd(key, want.Key))
            {
                throw new ArgumentException($"sysctl '{want.Key}' is desired twice (also as '{keys[key]}')", nameof(desired));
            }

            list.Add((key, want.Value.Trim()));
        }

        _ns = ns;
        _record = record;
        _options = options ?? new SysctlSourceOptions();
        _desired = [.. list];
        _where = Describe(ns);
        Scope = ns.Name is { } name ? Scope.Namespace(name) : string.Equals(_where, "the host", StringComparison.Ordinal) ? Scope.Host : Scope.Of(ns);
    }

    /// <inheritdoc/>
    public override string Name => "sysctls in " + _where;

    /// <summary>The record key of a normalised sysctl key (<c>sysctl net/ipv4/ip_forward</c>).</summary>
    public static string RecordKey(string key) => RecordPrefix + key;

    /// <inheritdoc/>
    public override Task<SysctlObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SourceNamespace.ThrowIfGone(_ns);
        var record = OwnRecord();
        var keys = new List<string>(_desired.Length + record.Count);
        keys.AddRange(_desired.Select(d => d.Key));
        foreach (var recordKey in record.Keys)
        {
            var key = recordKey[RecordPrefix.Length..];
            if (!keys.Contains(key, StringComparer.Ordinal))
            {
                keys.Add(key);
            }
        }

        return Task.FromResult(new SysctlObservation(ReadAll(keys), record));
    }

    /// <inheritdoc/>
    public override Plan Diff(SysctlObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var ops = new List<Operation>();
        var desired = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in _desired)
        {
            desired.Add(key);
            var target = ObjectKey.Sysctl(Scope, Sysctl.FormatKey(key));
            var have = observed.Values.GetValueOrDefault(key);
            if (have is null)
            {
                ops.Add(new SysctlOperation(OperationKind.Update, target, "no such entry (yet)", key, value));
            }
            else if (!Sysctl.ValuesEqual(have, value))
            {
                ops.Add(new SysctlOperation(OperationKind.Update, target, $"is {Sysctl.NormalizeValue(have)}, want {Sysctl.NormalizeValue(value)}", key, value));
            }
        }

        foreach (var (recordKey, entry) in observed.Record)
        {
            if (!recordKey.StartsWith(RecordPrefix, StringComparison.Ordinal))
            {
                continue; // another source's entry in a shared record
            }

            var key = recordKey[RecordPrefix.Length..];
            if (desired.Contains(key))
            {
                continue;
            }

            var target = ObjectKey.Sysctl(Scope, Sysctl.FormatKey(key));
            var have = observed.Values.GetValueOrDefault(key);
            if (!_options.RestoreOnRelease || entry.Original is null)
            {
                ops.Add(new SysctlOperation(OperationKind.Delete, target, "no longer desired: forgotten, left as it is", key, null));
            }
            else if (have is null)
            {
                ops.Add(new SysctlOperation(OperationKind.Delete, target, "no longer desired, and the entry is gone: forgotten", key, null));
            }
            else if (Sysctl.ValuesEqual(have, entry.Original))
            {
                ops.Add(new SysctlOperation(OperationKind.Delete, target, $"no longer desired, already at its original {Sysctl.NormalizeValue(entry.Original)}: forgotten", key, null));
            }
            else
            {
                ops.Add(new SysctlOperation(OperationKind.Delete, target, $"no longer desired: is {Sysctl.NormalizeValue(have)}, restore the original {Sysctl.NormalizeValue(entry.Original)}", key, entry.Original));
            }
        }

        return Plan.Of(ops);
    }

    /// <inheritdoc/>
    /// <exception cref="NetlinkException">Retryable: the entry does not exist (yet), or the write failed.</exception>
    /// <exception cref="TerminalReconcileException">The entry is read-only, or the kernel rejects the value (<c>EINVAL</c>).</exception>
    protected override Task ApplyOperationAsync(SysctlOperation op, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(op);
        cancellationToken.ThrowIfCancellationRequested();
        if (op.Kind == OperationKind.Delete)
        {
            Release(op.SysctlKey, op.Value);
            return Task.CompletedTask;
        }

        var entry = Entry(op.SysctlKey);
        if (entry is not null && !entry.CanWrite)
        {
            throw new TerminalReconcileException($"sysctl {entry.DisplayKey} in {_where} is read-only");
        }

        if (entry is null || ReadOrForget(entry) is not { } current)
        {
            throw new NetlinkException(Errno.ENOENT, "open sysctl", Sysctl.FormatKey(op.SysctlKey) + " in " + _where, "no such entry (yet); retried on the next pass");
        }

        var recordKey = RecordKey(op.SysctlKey);

        // Recorded before the write: a crash between the two leaves the original known, never the new value taken
        // for it. A key recorded earlier keeps its first original.
        var recorded = _record.TryGet(recordKey, out var known);
        _record.Set(recordKey, new AppliedEntry(op.Value!, recorded ? known!.Original : current));
        try
        {
            entry.Write(op.Value!);
        }
        catch (NetlinkException ex)
        {
            if (!recorded)
            {
                _record.Remove(recordKey); // nothing was changed: not ours after all
            }

            if (ex.Errno == Errno.ENOENT)
            {
                Forget(op.SysctlKey);
            }

            if (ex.Errno == Errno.EINVAL)
            {
                throw new TerminalReconcileException($"sysctl {entry.DisplayKey} in {_where}: the kernel rejects '{op.Value}': {ex.Message}", ex);
            }

            throw;
        }

        return Task.CompletedTask;
    }

    /// <summary>None: the kernel sends no notification when a sysctl changes, so drift is found by the loop's resync
    /// timer alone.</summary>
    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken) => null;

    /// <summary>
    /// Lets go of everything this source recorded (for <c>destroy</c>): each recorded key is restored to its original
    /// (with <see cref="SysctlSourceOptions.RestoreOnRelease"/>) and forgotten. A key whose restore fails stays recorded
    /// and the failure is thrown once the others are done. When the namespace is gone, its values went with it: the
    /// record is only cleared.
    /// </summary>
    public Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var gone = false;
        try
        {
            SourceNamespace.ThrowIfGone(_ns);
        }
        catch (NamespaceGoneException)
        {
            gone = true;
        }

        var errors = new List<Exception>();
        foreach (var (recordKey, entry) in OwnRecord())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = recordKey[RecordPrefix.Length..];
            try
            {
                Release(key, gone || !_options.RestoreOnRelease ? null : entry.Original);
            }
            catch (Exception ex) when (ex is IOException or TerminalReconcileException)
            {
                errors.Add(ex);
            }
        }

        return errors.Count switch
        {
            0 => Task.CompletedTask,
            1 => Task.FromException(errors[0]),
            _ => Task.FromException(new AggregateException($"releasing sysctls in {_where}: {errors.Count} failed", errors)),
        };
    }

    /// <summary>Closes the open entries.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var entry in _open.Values)
            {
                entry.Dispose();
            }

            _open.Clear();
        }
    }

    /// <summary>Restores <paramref name="original"/> (when not null and the entry still exists), then forgets the key.</summary>
    private void Release(string key, string? original)
    {
        if (original is not null && Entry(key) is { } entry)
        {
            try
            {
                if (!Sysctl.ValuesEqual(entry.Read(), original))
                {
                    if (!entry.CanWrite)
                    {
                        throw new TerminalReconcileException($"sysctl {entry.DisplayKey} in {_where} is read-only");
                    }

                    entry.Write(original);
                }
            }
            catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
            {
                // The entry went away (its interface was deleted): there is nothing left to restore.
                Forget(key);
            }
        }

        _record.Remove(RecordKey(key));
    }

    private Dictionary<string, AppliedEntry> OwnRecord()
    {
        var own = new Dictionary<string, AppliedEntry>(StringComparer.Ordinal);
        foreach (var (key, entry) in _record.Snapshot())
        {
            if (key.StartsWith(RecordPrefix, StringComparison.Ordinal))
            {
                own[key] = entry;
            }
        }

        return own;
    }

    /// <summary>The values of <paramref name="keys"/>: open entries are read; the others (and those found gone) are
    /// opened together in one visit to the namespace and read; null for entries that do not exist.</summary>
    private Dictionary<string, string?> ReadAll(List<string> keys)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var closed = new List<string>();
        foreach (var key in keys)
        {
            var entry = Cached(key);
            if (entry is null)
            {
                closed.Add(key);
                continue;
            }

            try
            {
                values[key] = entry.Read();
            }
            catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
            {
                Forget(key); // gone since it was opened; maybe back under the same name: open it anew
                closed.Add(key);
            }
        }

        if (closed.Count > 0)
        {
            var opened = Sysctl.OpenAll(_ns, closed);
            for (var i = 0; i < closed.Count; i++)
            {
                var entry = opened[i] is { } fresh ? Keep(fresh) : null;
                values[closed[i]] = entry is null ? null : ReadOrForget(entry);
            }
        }

        return values;
    }

    /// <summary>The entry's value, or null (and the entry dropped) when it is gone.</summary>
    private string? ReadOrForget(Sysctl entry)
    {
        try
        {
            return entry.Read();
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
        {
            Forget(entry.Key);
            return null;
        }
    }

    /// <summary>The open entry for <paramref name="key"/>, opened now if needed; null when there is no such entry.</summary>
    private Sysctl? Entry(string key)
    {
        if (Cached(key) is { } entry)
        {
            return entry;
        }

        return Sysctl.TryOpen(_ns, key) is { } fresh ? Keep(fresh) : null;
    }

    private Sysctl? Cached(string key)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _open.GetValueOrDefault(key);
        }
    }

    /// <summary>Caches <paramref name="entry"/>, unless another thread cached one first (then that one is used).</summary>
    private Sysctl Keep(Sysctl entry)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                entry.Dispose();
                throw new ObjectDisposedException(GetType().FullName);
            }

            if (_open.TryGetValue(entry.Key, out var other))
            {
                entry.Dispose();
                return other;
            }

            _open[entry.Key] = entry;
            return entry;
        }
    }

    private void Forget(string key)
    {
        lock (_lock)
        {
            if (_open.Remove(key, out var entry))
            {
                entry.Dispose();
            }
        }
    }

    /// <summary>The namespace's name; <c>the host</c> for the process's own namespace opened without a name.</summary>
    private static string Describe(NetworkNamespace ns)
    {
        if (ns.Name is { } name)
        {
            return name;
        }

        using var own = NetworkNamespace.OpenCurrent();
        return own.Inode == ns.Inode ? "the host" : ns.Path;
    }
}
