using System.Runtime.InteropServices;

namespace Aether.Interop;

// Starting and reaping child processes: posix_spawn with its attributes and file actions, signal sets, waitpid and
// access (see Libc.cs for the layout). posix_spawn, not Process.Start: the child is made by the calling thread (glibc
// clones it with CLONE_VM | CLONE_VFORK from that thread), so it inherits that thread's network namespace; it can be
// put in a session of its own (POSIX_SPAWN_SETSID, glibc 2.26), have every descriptor above stderr closed
// (addclosefrom_np, glibc 2.34), its working directory set (addchdir_np, glibc 2.29), and an exec failure comes back
// as posix_spawn's return value instead of a child that exits 127.
internal static unsafe partial class Libc
{
    // posix_spawnattr_t is 336 bytes and posix_spawn_file_actions_t 80 on x86-64 and arm64 glibc; the buffers
    // handed to their init functions are larger so that no layout is assumed. sigset_t is 128 bytes.
    public const int SpawnAttrSize = 1024;
    public const int SpawnFileActionsSize = 1024;
    public const int SigSetSize = 128;

    // POSIX_SPAWN_SETSIGDEF: the signals of the attribute's default set start with their default action (an ignored
    // SIGPIPE, as .NET sets it, would otherwise stay ignored across exec).
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;

    // POSIX_SPAWN_SETSIGMASK: the child's signal mask is the attribute's.
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    // POSIX_SPAWN_SETSID: the child calls setsid: a session and process group of its own, led by it.
    public const short POSIX_SPAWN_SETSID = 0x80;

    // X_OK: access checks for execute (search) permission.
    public const int X_OK = 1;

    [LibraryImport(Lib, EntryPoint = "posix_spawn")]
    public static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_init")]
    public static partial int PosixSpawnattrInit(void* attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_destroy")]
    public static partial int PosixSpawnattrDestroy(void* attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setflags")]
    public static partial int PosixSpawnattrSetflags(void* attr, short flags);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int PosixSpawnattrSetsigmask(void* attr, void* sigmask);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int PosixSpawnattrSetsigdefault(void* attr, void* sigdefault);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int PosixSpawnFileActionsInit(void* actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int PosixSpawnFileActionsDestroy(void* actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addopen")]
    public static partial int PosixSpawnFileActionsAddopen(void* actions, int fd, byte* path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int PosixSpawnFileActionsAdddup2(void* actions, int fd, int newFd);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    public static partial int PosixSpawnFileActionsAddclosefrom(void* actions, int from);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    public static partial int PosixSpawnFileActionsAddchdir(void* actions, byte* path);

    [LibraryImport(Lib, EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* set);

    [LibraryImport(Lib, EntryPoint = "sigfillset")]
    public static partial int SigFillSet(void* set);

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Lib, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);
}
