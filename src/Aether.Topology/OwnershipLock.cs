using Aether.Netlink;

namespace Aether.Topology;

/// <summary>
/// Serializes the decisions about namespaces between the topologies of one state directory: an apply opening, creating
/// and recording the namespaces it uses, a destroy reading every topology's claims and deleting what nobody else
/// claims. Held for those steps only, not for a whole apply. An exclusive <c>flock</c> on <c>STATE/.namespaces.lock</c>
/// (what .NET takes for <see cref="FileShare.None"/> on Linux), so a process that dies lets it go with its descriptors.
/// </summary>
internal sealed class OwnershipLock : IDisposable
{
    private readonly FileStream _file;

    private OwnershipLock(FileStream file) => _file = file;

    /// <summary>Waits for the lock of <paramref name="stateDirectory"/> and takes it.</summary>
    public static OwnershipLock Acquire(string stateDirectory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, ".namespaces.lock");
        for (var wait = 1; ; wait = Math.Min(wait * 2, 16))
        {
            try
            {
                return new OwnershipLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException ex) when (ex.HResult == Errno.EAGAIN) // flock: EWOULDBLOCK
            {
                // Held by another apply or destroy: its namespace steps take milliseconds.
                cancellationToken.ThrowIfCancellationRequested();
                Thread.Sleep(wait);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();
}
