using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using Aether.Interop;
using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Labs.Supervision;

/// <summary>
/// Starts a node's command inside its network namespace. A new process inherits the network namespace of the thread
/// that made it, so the command is spawned (<c>posix_spawn</c>) from the namespace's own short-lived thread
/// (<see cref="NetworkNamespace.RunInside{TState, TResult}(Func{TState, TResult}, TState)"/>): this code never calls
/// <c>setns</c>, and no thread-pool thread changes namespace. The child leads a session and process group of its own
/// (so that stopping it can signal everything it started), has stdin on <c>/dev/null</c>, stdout and stderr on the
/// log, no other inherited descriptor, every signal at its default action and none blocked, and this process's
/// environment with the spec's variables over it.
/// </summary>
internal static unsafe class NodeSpawner
{
    /// <summary>What runs between <c>unshare --mount</c> and the command when the node gets its own <c>/sys</c>:
    /// the host's <c>/sys</c> (and what is mounted below it) is detached in the new mount namespace and a sysfs of
    /// the network namespace mounted instead, as <c>ip netns exec</c> does; then the command replaces the shell, so
    /// the pid stays the same from <c>unshare</c> to the command.</summary>
    internal const string PrivateSysScript =
        "umount -l /sys 2>/dev/null; mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || "
        + "echo 'aether: no sysfs of its own for this namespace: /sys is not its view' >&2; exec \"$@\"";

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The program to execute and the argv to give it: the spec's command, or, with
    /// <see cref="NodeProcessSpec.PrivateSys"/>, <c>unshare</c> running <see cref="PrivateSysScript"/> with the
    /// resolved command.</summary>
    /// <exception cref="NetlinkException">The program, or <c>unshare</c>, cannot be found or executed; the working
    /// directory does not exist.</exception>
    public static (string Path, IReadOnlyList<string> Argv) CommandLine(NodeProcessSpec spec)
    {
        var search = spec.Environment.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH") ?? DefaultPath;
        if (spec.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            throw new NetlinkException(Errno.ENOENT, "start in directory", directory);
        }

        var program = Resolve(spec.Argv[0], spec.WorkingDirectory, search);
        if (!spec.PrivateSys)
        {
            return (program, spec.Argv);
        }

        string unshare;
        try
        {
            unshare = Resolve("unshare", null, search);
        }
        catch (NetlinkException ex)
        {
            throw new NetlinkException(ex.Errno, "start", "unshare", "needed for the node's own /sys (util-linux)");
        }

        return (unshare, ["unshare", "--mount", "--propagation", "slave", "--", "/bin/sh", "-c", PrivateSysScript, "aether-sys", program, .. spec.Argv.Skip(1)]);
    }

    /// <summary>Finds the file <paramref name="program"/> names, as <c>execvp</c> would: a name with a <c>/</c> is a
    /// path (relative ones from <paramref name="directory"/>, or this process's working directory); a bare name is
    /// looked up in each directory of <paramref name="search"/>.</summary>
    /// <returns>The full path of an executable file.</returns>
    /// <exception cref="NetlinkException"><c>ENOENT</c> when there is no such file, <c>EACCES</c> when it is not
    /// executable (or is a directory).</exception>
    public static string Resolve(string program, string? directory, string search)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(program, directory ?? Environment.CurrentDirectory);
            var errno = Check(full);
            return errno == 0 ? full : throw new NetlinkException(errno, "start", program);
        }

        var found = Errno.ENOENT;
        foreach (var dir in search.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, program);
            var errno = Check(candidate);
            if (errno == 0)
            {
                return Path.GetFullPath(candidate);
            }

            if (errno == Errno.EACCES)
            {
                found = Errno.EACCES; // execvp reports EACCES when a file was there but not executable
            }
        }

        throw new NetlinkException(found, "start", program);
    }

    /// <summary>Starts the command in <paramref name="target"/> with stdout and stderr on <paramref name="logFd"/>.</summary>
    /// <returns>The child's pid (also its process group and session id).</returns>
    /// <exception cref="NetlinkException">It could not be started (the program's errno, or the namespace's).</exception>
    public static int Spawn(NetworkNamespace target, NodeProcessSpec spec, int logFd)
    {
        var (path, argv) = CommandLine(spec);
        using var command = new NativeCommand(path, argv, Environ(spec.Environment), spec.WorkingDirectory, logFd);
        return target.RunInside(static c => c.Spawn(), command);
    }

    /// <summary>This process's environment with <paramref name="overrides"/> over it, as <c>NAME=value</c>.</summary>
    private static List<string> Environ(IReadOnlyDictionary<string, string> overrides)
    {
        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            variables[(string)e.Key] = (string?)e.Value ?? "";
        }

        foreach (var (name, value) in overrides)
        {
            variables[name] = value;
        }

        return [.. variables.Select(v => v.Key + "=" + v.Value)];
    }

    private static int Check(string path)
    {
        if (Directory.Exists(path))
        {
            return Errno.EACCES;
        }

        return Libc.Access(path, Libc.X_OK) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>The command as C strings in native memory, built on the calling thread, so that the namespace's
    /// thread does no more than <c>posix_spawn</c>.</summary>
    private sealed class NativeCommand : IDisposable
    {
        private readonly List<nint> _blocks = [];
        private readonly byte* _path;
        private readonly byte** _argv;
        private readonly byte** _envp;
        private readonly byte* _directory;
        private readonly int _logFd;
        private readonly string _name;

        public NativeCommand(string path, IReadOnlyList<string> argv, List<string> envp, string? directory, int logFd)
        {
            _name = argv[0];
            _path = Utf8(path);
            _argv = Array(argv);
            _envp = Array(envp);
            _directory = directory is null ? null : Utf8(directory);
            _logFd = logFd;
        }

        /// <summary>Runs on the namespace's thread: the child is cloned from it, into its network namespace.</summary>
        public int Spawn()
        {
            var attr = stackalloc byte[Libc.SpawnAttrSize];
            var actions = stackalloc byte[Libc.SpawnFileActionsSize];
            var mask = stackalloc byte[Libc.SigSetSize];
            var defaults = stackalloc byte[Libc.SigSetSize];
            Must(Libc.PosixSpawnattrInit(attr), "posix_spawnattr_init");
            Must(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            try
            {
                Libc.SigEmptySet(mask);
                Libc.SigFillSet(defaults);
                Must(Libc.PosixSpawnattrSetflags(attr, Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags");
                Must(Libc.PosixSpawnattrSetsigmask(attr, mask), "posix_spawnattr_setsigmask");
                Must(Libc.PosixSpawnattrSetsigdefault(attr, defaults), "posix_spawnattr_setsigdefault");
                fixed (byte* devNull = "/dev/null"u8)
                {
                    Must(Libc.PosixSpawnFileActionsAddopen(actions, 0, devNull, Libc.O_RDONLY, 0), "posix_spawn_file_actions_addopen");
                }

                Must(Libc.PosixSpawnFileActionsAdddup2(actions, _logFd, 1), "posix_spawn_file_actions_adddup2");
                Must(Libc.PosixSpawnFileActionsAdddup2(actions, _logFd, 2), "posix_spawn_file_actions_adddup2");
                Must(Libc.PosixSpawnFileActionsAddclosefrom(actions, 3), "posix_spawn_file_actions_addclosefrom_np");
                if (_directory is not null)
                {
                    Must(Libc.PosixSpawnFileActionsAddchdir(actions, _directory), "posix_spawn_file_actions_addchdir_np");
                }

                int pid;
                var errno = Libc.PosixSpawn(&pid, _path, actions, attr, _argv, _envp);
                return errno == 0 ? pid : throw new NetlinkException(errno, "start", _name);
            }
            finally
            {
                Libc.PosixSpawnFileActionsDestroy(actions);
                Libc.PosixSpawnattrDestroy(attr);
            }
        }

        public void Dispose()
        {
            foreach (var block in _blocks)
            {
                NativeMemory.Free((void*)block);
            }

            _blocks.Clear();
        }

        private static void Must(int errno, string call)
        {
            if (errno != 0)
            {
                throw new NetlinkException(errno, call, null);
            }
        }

        private byte* Utf8(string s)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            var p = (byte*)NativeMemory.Alloc((nuint)length + 1);
            _blocks.Add((nint)p);
            Encoding.UTF8.GetBytes(s, new Span<byte>(p, length));
            p[length] = 0;
            return p;
        }

        private byte** Array(IReadOnlyList<string> strings)
        {
            var array = (byte**)NativeMemory.Alloc((nuint)(strings.Count + 1), (nuint)sizeof(byte*));
            _blocks.Add((nint)array);
            for (var i = 0; i < strings.Count; i++)
            {
                array[i] = Utf8(strings[i]);
            }

            array[strings.Count] = null;
            return array;
        }
    }
}
