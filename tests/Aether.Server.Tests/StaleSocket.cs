using System.Runtime.InteropServices;
using System.Text;

namespace Aether.Server.Tests;

/// <summary>A socket file nobody listens on, as a daemon killed with SIGKILL leaves it. Made with libc directly:
/// .NET's <see cref="System.Net.Sockets.Socket"/> unlinks the file it bound when it is disposed.</summary>
public static partial class StaleSocket
{
    public static unsafe void Create(string path)
    {
        var fd = Socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0);
        Assert.True(fd >= 0, "socket: errno " + Marshal.GetLastPInvokeError());
        try
        {
            var address = new byte[110]; // struct sockaddr_un: sa_family_t, then sun_path[108]
            address[0] = 1;
            var name = Encoding.UTF8.GetBytes(path);
            Assert.True(name.Length < 108, path);
            name.CopyTo(address, 2);
            fixed (byte* p = address)
            {
                Assert.True(Bind(fd, p, (uint)address.Length) == 0, "bind: errno " + Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int Bind(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
