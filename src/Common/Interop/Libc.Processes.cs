using System.Runtime.InteropServices;

namespace Aether.Interop;

// Processes and threads: a polite SIGTERM, replacing the process with execv, and the calling
// thread's id (see Libc.cs for the layout).
internal static partial class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    // kill: .NET's System.Diagnostics.Process.Kill() sends only SIGKILL, which
    // leaves wireguard-go's socket behind.
    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    // execv: the BCL starts processes only as children (Process.Start), never in place of the
    // caller. argv ends with a null pointer.
    [LibraryImport(Lib, EntryPoint = "execv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Execv(string path, nint[] argv);

    [LibraryImport(Lib, EntryPoint = "gettid")]
    public static partial int GetTid();
}
