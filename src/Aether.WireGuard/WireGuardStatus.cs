using System.Runtime.CompilerServices;

namespace Aether.WireGuard;

/// <summary>
/// Status by polling: WireGuard has no multicast group and no events, so the latest handshake and the transfer
/// counters are read again on a timer (as <c>wg show</c> reads them once).
/// </summary>
public static class WireGuardStatus
{
    /// <summary>Reads device <paramref name="name"/> now and then every <paramref name="interval"/>; yields null
    /// while the device does not exist. Ends when cancelled.</summary>
    public static async IAsyncEnumerable<WireGuardDevice?> PollAsync(IWireGuardBackend backend, string name, TimeSpan interval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        using var timer = new PeriodicTimer(interval);
        do
        {
            yield return await backend.GetDeviceAsync(name, cancellationToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
