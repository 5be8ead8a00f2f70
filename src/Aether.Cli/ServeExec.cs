#if NATIVE_CLI
using System.Runtime.InteropServices;
using Aether.Interop;

namespace Aether.Cli;

/// <summary>
/// <c>serve</c> in the native build of the CLI. The daemon runs ASP.NET Core and EF Core, which generate code at run
/// time and so cannot be compiled ahead of time; the native binary therefore replaces itself (<c>execv</c>, the same
/// process: systemd's <c>NotifyAccess=main</c>, signals and the exit code all stay as they were) with the ReadyToRun
/// build of the same sources that <c>./aether</c> publishes beside it, <c>serve/aether</c>, and the same arguments.
/// </summary>
internal static class ServeExec
{
    /// <summary>Where the daemon's build is, relative to the native binary.</summary>
    public static string DaemonPath => Path.Combine(AppContext.BaseDirectory, "serve", "aether");

    /// <summary>Becomes the daemon; returns only when that failed (exit code 1, after saying why).</summary>
    public static int Run()
    {
        var path = DaemonPath;
        if (!File.Exists(path))
        {
            Output.Fail($"serve: the daemon's build {path} is missing (./aether builds it)");
            return ExitCodes.Failure;
        }

        string[] args = [path, .. Environment.GetCommandLineArgs().Skip(1)];
        Output.Flush();
        var argv = new nint[args.Length + 1]; // NULL-terminated
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                argv[i] = Marshal.StringToCoTaskMemUTF8(args[i]);
            }

            _ = Libc.Execv(path, argv);
            Output.Fail($"serve: cannot run {path}: errno {Marshal.GetLastPInvokeError()}");
            return ExitCodes.Failure;
        }
        finally
        {
            foreach (var arg in argv)
            {
                Marshal.FreeCoTaskMem(arg);
            }
        }
    }
}
#endif
