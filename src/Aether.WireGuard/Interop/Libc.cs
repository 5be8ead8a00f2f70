using System.Runtime.InteropServices;

namespace Aether.WireGuard.Interop;

/// <summary>The libc entry points this project uses: only <c>kill</c>, for a polite SIGTERM (.NET's
/// <see cref="System.Diagnostics.Process.Kill()"/> sends SIGKILL, which leaves wireguard-go's socket behind).</summary>
internal static partial class Libc
{
    /// <summary><c>SIGTERM</c>.</summary>
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
