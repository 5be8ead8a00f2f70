using System.Threading.Channels;

namespace Aether.Reconcile.Tests;

/// <summary>A source whose passes the test scripts: what the diff finds, what applying does, and hints.</summary>
public sealed class FakeSource : Source<int>
{
    private Channel<object> _hints = Channel.CreateUnbounded<object>();
    private int _passes;

    public override string Name => "fake";

    /// <summary>Passes started so far.</summary>
    public int Passes => Volatile.Read(ref _passes);

    /// <summary>What the next observations throw, if anything.</summary>
    public Func<int, Exception?> ObserveFails { get; set; } = _ => null;

    /// <summary>What the diff returns for pass N.</summary>
    public Func<int, IEnumerable<Operation>> Drift { get; set; } = _ => [];

    /// <summary>What applying an operation throws in pass N, if anything.</summary>
    public Func<int, Operation, Exception?> ApplyFails { get; set; } = (_, _) => null;

    /// <summary>When set, each pass waits for it before observing.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Signalled when a pass starts.</summary>
    public Channel<int> Started { get; } = Channel.CreateUnbounded<int>();

    public bool HintsSubscribed { get; private set; }

    /// <summary>Called when a plan's intent is to be recorded.</summary>
    public Action<Plan>? OnPrepare { get; set; }

    /// <summary>Called before each operation is applied.</summary>
    public Func<Operation, Task>? OnApply { get; set; }

    public void SendHint() => _hints.Writer.TryWrite(new object());

    /// <summary>How many times the loop subscribed to the hints.</summary>
    public int Subscriptions { get; private set; }

    /// <summary>Fails the current hint stream (as a monitor whose socket broke); the next subscription gets a new one.</summary>
    public void FailHints()
    {
        var failing = _hints;
        _hints = Channel.CreateUnbounded<object>();
        failing.Writer.TryComplete(new IOException("monitor socket closed"));
    }

    public override async Task<int> ObserveAsync(CancellationToken cancellationToken)
    {
        var pass = Interlocked.Increment(ref _passes);
        Started.Writer.TryWrite(pass);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return ObserveFails(pass) is { } error ? throw error : pass;
    }

    public override Plan Diff(int observed) => Plan.Of(Drift(observed));

    public override async Task ApplyAsync(Operation operation, CancellationToken cancellationToken)
    {
        if (OnApply is { } onApply)
        {
            await onApply(operation);
        }

        if (ApplyFails(Passes, operation) is { } error)
        {
            throw error;
        }
    }

    public override void Prepare(Plan plan) => OnPrepare?.Invoke(plan);

    public override IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken)
    {
        HintsSubscribed = true;
        Subscriptions++;
        return _hints.Reader.ReadAllAsync(cancellationToken);
    }
}
