using System.Runtime.InteropServices;

namespace Aether.Interop;

// The libc entry points Aether calls, declared once here and compiled into each project that needs them (a Compile
// Include with a Link, the way dotnet/runtime shares src/libraries/Common/src/Interop). .NET's Socket does not speak
// AF_NETLINK, and .NET has no setns, unshare, mount, inotify, flock or execv, so these are called directly.
//
// One partial file per concern: this one holds descriptors and paths; Libc.Sockets.cs netlink sockets;
// Libc.Namespaces.cs setns, unshare and mounts; Libc.Events.cs poll, eventfd, inotify and pidfds; Libc.Stat.cs file
// identities through statx; Libc.Processes.cs signals, exec and thread ids; Libc.Spawn.cs posix_spawn, waitpid and
// access. A project includes this file and the ones it calls. Errno values are named in Aether.Netlink.Errno.
//
// Comments here are plain comments, not XML documentation: the same members are compiled into several assemblies,
// and ASP.NET Core's OpenAPI comment generator (in Aether.Server) reads every referenced assembly's documentation file
// and fails on an id it finds twice (F:Aether.Interop.Libc.O_RDONLY).
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_APPEND = 0x400;

    // O_NOCTTY: opening a terminal does not make it the controlling one.
    public const int O_NOCTTY = 0x100;

    // O_NONBLOCK: open returns at once (a FIFO with no writer does not wait for one).
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    // O_NOFOLLOW: a symbolic link as the last component is not followed.
    public const int O_NOFOLLOW = 0x20000;

    // O_PATH: the lookup alone; the file itself is not opened (no FIFO wait, no device driver's open).
    public const int O_PATH = 0x200000;

    // LOCK_EX: an exclusive flock.
    public const int LOCK_EX = 2;

    // LOCK_NB: fail with EWOULDBLOCK instead of waiting.
    public const int LOCK_NB = 4;

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(Lib, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(Lib, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string existing, string path);

    [LibraryImport(Lib, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}
