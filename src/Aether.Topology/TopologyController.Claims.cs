using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    /// <summary>The record sections of a scope's objects (all but the claims themselves).</summary>
    private static readonly string[] ScopeSections = ["addresses", "routes", "sysctls", "nftables"];

    /// <summary>The state root every topology of this one's state directory shares (<c>STATE</c>).</summary>
    private string StateRoot => Path.GetDirectoryName(StatePath)!;

    /// <summary>The key of a scope's claim in the <c>namespaces</c> section.</summary>
    private static string ClaimKey(Scope scope) => scope.Name is { } name ? NamespaceKey(name) : "host";

    /// <summary>Opens the named namespace, or null when there is none under that name: also when it went between the
    /// look and the open, and when the name is only a file still waiting for its namespace to be mounted on it (a
    /// creation under way in another process).</summary>
    private static NetworkNamespace? TryOpen(string name)
    {
        if (NetworkNamespace.TryOpen(name) is not { } ns)
        {
            return null;
        }

        try
        {
            _ = ns.Identity; // read now: a plain file has none
            return ns;
        }
        catch (NetlinkException)
        {
            ns.Dispose();
            return null;
        }
    }

    /// <summary>The creation mark inside <paramref name="ns"/> (its loopback's alias), or null.</summary>
    private static string? ReadMark(NetworkNamespace ns)
    {
        using var handle = NetlinkHandle.OpenAt(ns);
        return handle.ReadNamespaceMarkAsync().GetAwaiter().GetResult(); // a request on a socket: it completes at once
    }

    /// <summary>Forgets what the record says about the objects of <paramref name="scope"/>.</summary>
    private static void ForgetObjects(AppliedRecordStore store, Scope scope)
    {
        foreach (var what in ScopeSections)
        {
            var name = SectionOf(scope, what);
            if (!store.Holds(name))
            {
                continue; // nothing to forget (a namespace made anew): no empty section made to be emptied
            }

            var section = store.Section(name);
            foreach (var key in section.Snapshot().Keys)
            {
                section.Remove(key);
            }
        }
    }

    /// <summary>Every other topology's claims in this state directory, by namespace name (the host under "").</summary>
    private Dictionary<string, List<(string Topology, NamespaceClaim Claim)>> OtherClaims()
    {
        var claims = new Dictionary<string, List<(string, NamespaceClaim)>>(StringComparer.Ordinal);
        foreach (var directory in Directory.EnumerateDirectories(StateRoot))
        {
            var topology = Path.GetFileName(directory);
            var file = Path.Combine(directory, "records.json");
            if (string.Equals(topology, Owner, StringComparison.Ordinal) || !File.Exists(file))
            {
                continue;
            }

            AppliedRecordStore store;
            try
            {
                store = AppliedRecordStore.Open(file);
            }
            catch (InvalidDataException)
            {
                continue; // not a topology's records: it claims nothing
            }

            foreach (var (key, entry) in NamespaceRecord(store).Snapshot())
            {
                if (key.StartsWith("namespace ", StringComparison.Ordinal) && NamespaceClaim.Parse(entry) is { } claim)
                {
                    var name = key["namespace ".Length..];
                    if (!claims.TryGetValue(name, out var list))
                    {
                        list = [];
                        claims[name] = list;
                    }

                    list.Add((topology, claim));
                }
            }
        }

        return claims;
    }

    /// <summary>How one scope's claim stands against the namespace now under its name.</summary>
    /// <param name="Ours">This topology created exactly this namespace.</param>
    /// <param name="Stale">The claim is about another namespace (deleted and made again since, or from an earlier
    /// boot): nothing the record says about it applies here.</param>
    private readonly record struct ClaimCheck(bool Ours, bool Stale);

    /// <summary>Checks <paramref name="claim"/> against <paramref name="ns"/>: by identity when the claim has one,
    /// by the namespace's creation mark when it is only an intent.</summary>
    private ClaimCheck Check(NamespaceClaim? claim, NetworkNamespace ns) => claim switch
    {
        null => new ClaimCheck(false, false),
        { Kind: ClaimKind.Creating } => string.Equals(NamespaceClaim.CreatorIn(ReadMark(ns)), Owner, StringComparison.Ordinal)
            ? new ClaimCheck(true, false)
            : new ClaimCheck(false, true),
        { } c when !c.IsAbout(ns.Identity) => new ClaimCheck(false, true),
        { Kind: var kind } => new ClaimCheck(kind == ClaimKind.Created, false),
    };

    /// <summary>Why a claim does not apply, as reports say it.</summary>
    private const string NotTheRecordedOne = "not the namespace this topology recorded (deleted and made again since): not ours";

    /// <summary>A name someone took between the look and the creation: its namespace, once it is mounted there (an
    /// <c>ip netns add</c> makes the file a moment before it mounts). A file that stays a plain file is what a
    /// creation or deletion killed between the two left (ours, or <c>ip</c>'s): it is removed, and null returned, so the name
    /// is created afresh.</summary>
    private static NetworkNamespace? AwaitNamespace(string name)
    {
        var (found, _) = AwaitNamespaces([name]);
        return found.GetValueOrDefault(name);
    }

    /// <summary>
    /// <see cref="AwaitNamespace"/> for many names at once, under one deadline of 200 ms for all: a batch killed
    /// between making its mount point files and mounting them leaves one plain file per name (200 of them after a
    /// killed apply of 200 namespaces), and waiting for each in turn made the next apply take 40 s (found by the
    /// chaos runner). Returns the namespaces that were mounted, and the names whose leftover file was removed (or that
    /// went meanwhile): those are made afresh.
    /// </summary>
    private static (Dictionary<string, NetworkNamespace> Found, HashSet<string> Free) AwaitNamespaces(IReadOnlyCollection<string> names)
    {
        var found = new Dictionary<string, NetworkNamespace>(StringComparer.Ordinal);
        var free = new HashSet<string>(StringComparer.Ordinal);
        var pending = new List<string>(names);
        for (var waited = 0; pending.Count > 0 && waited < 200; waited += 10)
        {
            pending.RemoveAll(name =>
            {
                if (TryOpen(name) is { } ns)
                {
                    found[name] = ns;
                    return true;
                }

                return !NetworkNamespace.Exists(name) && free.Add(name); // gone again: free
            });
            if (pending.Count > 0)
            {
                Thread.Sleep(10);
            }
        }

        foreach (var name in pending)
        {
            try
            {
                NetworkNamespace.Delete(name);
            }
            catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
            {
                // removed meanwhile
            }

            if (TryOpen(name) is { } late)
            {
                found[name] = late; // mounted at the last moment after all
            }
            else
            {
                free.Add(name);
            }
        }

        return (found, free);
    }

    private sealed partial class Session
    {
        private readonly HashSet<Scope> _stale = [];
        private readonly Dictionary<Scope, string> _notes = [];

        /// <summary>The nsfs inode of an open namespace, as the <see cref="NamespaceWatcher"/> reports it.</summary>
        public ulong InodeOf(Scope scope) => _namespaces[scope].Inode;

        /// <summary>Why a namespace is reported as it is (not the one recorded), or null.</summary>
        public string? NoteOf(Scope scope) => _notes.GetValueOrDefault(scope);

        /// <summary>Opens the host and the topology's namespaces; with <paramref name="createMissing"/>, creates the
        /// missing ones and records every claim, under the state directory's <see cref="OwnershipLock"/>.</summary>
        private void OpenNamespaces(bool createMissing, IReadOnlySet<string>? skip)
        {
            // Creating: under the lock from the first look, so no other topology of the state directory is halfway
            // through making or deleting one of these namespaces while they are looked at.
            using var gate = createMissing ? OwnershipLock.Acquire(_owner.StateRoot) : null;
            Add(Scope.Host, NetworkNamespace.OpenCurrent());
            var missing = new List<string>();
            foreach (var ns in _owner._topology.Namespaces)
            {
                if (skip?.Contains(ns.Name) == true)
                {
                    continue;
                }

                if (TryOpen(ns.Name) is { } opened)
                {
                    Add(Scope.Namespace(ns.Name), opened);
                }
                else if (!_owner._awaited.Contains(ns.Name))
                {
                    missing.Add(ns.Name);
                }
            }

            if (!createMissing)
            {
                JudgeClaims(record: false);
                return;
            }

            var claims = NamespaceRecord(_store);
            using (_store.Defer())
            {
                JudgeClaims(record: true);

                // The intent, in the same write: a crash before the creations leaves a record of namespaces that may
                // not exist (harmless); one after them leaves namespaces whose mark says whose they are.
                claims.SetMany(missing.Select(name => KeyValuePair.Create(NamespaceKey(name), NamespaceClaim.Intent.ToEntry())));
            }

            if (missing.Count > 0)
            {
                Create(missing, claims);
            }
        }

        /// <summary>Creates <paramref name="missing"/> and records them as created; a name someone else took since
        /// the look is used instead (and recorded as used).</summary>
        private void Create(List<string> missing, AppliedRecord claims)
        {
            // Several at once (the kernel sets a new namespace up partly in parallel), on mount point files made
            // together (see NamespaceBatch), each marked and with its rtnetlink handle opened while the creating
            // thread is still inside it; a failure stops the rest and leaves those made so far to be closed with the
            // session.
            using var batch = NamespaceBatch.PrepareAvailable(missing);
            var (found, leftovers) = AwaitNamespaces([.. batch.Taken]);

            var free = missing.Where(n => !found.ContainsKey(n)).ToArray();
            var made = new (NetworkNamespace Namespace, NetlinkHandle Handle)?[free.Length];
            var mark = NamespaceClaim.MarkOf(_owner.Owner);
            try
            {
                var results = NetlinkHandle.CreateNamespacesBorrowing([.. free.Select(n => (n, leftovers.Contains(n) ? null : batch))], mark);
                for (var i = 0; i < free.Length; i++)
                {
                    made[i] = results[i].Made;
                }

                if (results.FirstOrDefault(r => r.Error is not null).Error is { } error)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error); // the kernel's error, as one creation would give it
                }
            }
            finally
            {
                var recorded = new List<KeyValuePair<string, AppliedEntry>>(missing.Count);
                using (_store.Defer()) // one write for the records forgotten (usually none: a name made anew by run)
                {
                    for (var i = 0; i < free.Length; i++)
                    {
                        if (made[i] is var (ns, handle))
                        {
                            var scope = Scope.Namespace(free[i]);
                            Add(scope, ns);
                            _handles[scope] = new Lazy<NetlinkHandle>(handle);
                            Created.Add(free[i]);
                            _fresh.Add(ns.Inode);
                            ForgetObjects(_store, scope); // a new namespace: nothing of ours is in it yet
                            recorded.Add(KeyValuePair.Create(NamespaceKey(free[i]), new NamespaceClaim(ClaimKind.Created, ns.Identity).ToEntry()));
                        }
                    }
                }

                foreach (var (name, ns) in found)
                {
                    Add(Scope.Namespace(name), ns);
                    recorded.Add(KeyValuePair.Create(NamespaceKey(name), new NamespaceClaim(ClaimKind.Used, ns.Identity).ToEntry()));
                }

                // With the next write (the first stage's intent): until then the mark inside each namespace proves it ours.
                claims.SetManyWithNextWrite(recorded);
            }
        }

        /// <summary>Checks the record's claim on every open scope against the namespace there now. A claim about
        /// another namespace is stale: while planning, its scope's records are set aside (<see cref="RecordFor"/>);
        /// with <paramref name="record"/>, they are forgotten and the namespace is claimed as used. A scope without a
        /// claim is claimed as used.</summary>
        private void JudgeClaims(bool record)
        {
            var claims = NamespaceRecord(_store);
            foreach (var (scope, ns) in _namespaces)
            {
                var key = ClaimKey(scope);
                var claim = claims.TryGet(key, out var entry) ? NamespaceClaim.Parse(entry) : null;
                var check = _owner.Check(claim, ns);
                if (check.Stale)
                {
                    _notes[scope] = scope.IsHost ? "records from an earlier boot: forgotten" : NotTheRecordedOne;
                    _stale.Add(scope);
                }

                if (!record || (claim is not null && !check.Stale && claim.Value.Kind != ClaimKind.Creating))
                {
                    continue;
                }

                if (check.Stale)
                {
                    ForgetObjects(_store, scope);
                    _stale.Remove(scope);
                }

                claims.Set(key, new NamespaceClaim(check.Ours ? ClaimKind.Created : ClaimKind.Used, ns.Identity).ToEntry());
            }
        }

        /// <summary>A scope's record section; for a scope whose records are stale (while planning), an empty one in
        /// memory, so nothing in that namespace is taken for ours.</summary>
        private AppliedRecord RecordFor(Scope scope, string what) =>
            _stale.Contains(scope) ? AppliedRecord.InMemory() : RecordOf(_store, scope, what);

        /// <summary>Whether a stage whose objects are ours only by the record needs a source in
        /// <paramref name="scope"/>: some are declared there, or some are recorded (to be removed). Asked without
        /// making the record's section, so a thousand namespaces with none make no empty sections.</summary>
        private bool Needs(Scope scope, int declared, string what) =>
            declared > 0 || (!_stale.Contains(scope) && _store.Holds(SectionOf(scope, what)));
    }
}
