using System.Runtime.InteropServices;

namespace Aether.Cli;

/// <summary>
/// SIGTERM and SIGINT turned into a cancellation, for the commands that run until stopped (<c>run</c>, <c>ns watch</c>,
/// <c>lab run</c>): the signal is taken (the process is not ended by it), so the command stops its loops and leaves
/// cleanly instead of dying mid-operation. Disposing it gives the signals back.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;

    private StopSignals()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    /// <summary>Cancelled by the first SIGTERM or SIGINT.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Whether a signal came.</summary>
    public bool IsCancellationRequested => _stop.IsCancellationRequested;

    /// <summary>Takes SIGTERM and SIGINT until disposed.</summary>
    public static StopSignals Listen() => new();

    /// <inheritdoc/>
    public void Dispose()
    {
        _interrupt.Dispose();
        _term.Dispose();
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
    }
}
