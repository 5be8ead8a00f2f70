using System.Diagnostics;

namespace Aether.Bench;

/// <summary>An input a reader threw on (a crash) or did not finish within the timeout (a hang).</summary>
/// <param name="Index">Its number in the run.</param>
/// <param name="Input">Its bytes.</param>
/// <param name="What">The exception, or how long it ran.</param>
internal sealed record FuzzFinding(int Index, byte[] Input, string What);

/// <summary>What a reader fuzz run saw.</summary>
internal sealed record FuzzReport(int Inputs, int Valid, IReadOnlyList<FuzzFinding> Crashes, IReadOnlyList<FuzzFinding> Hangs, TimeSpan Elapsed)
{
    public double PerSecond => Inputs / Elapsed.TotalSeconds;
}

/// <summary>
/// Feeds generated inputs to a reader on a worker thread of its own and waits at most the timeout for each: an input
/// the reader throws on is a crash (the readers report problems as results, never as exceptions), one that runs longer
/// is a hang (its worker is abandoned and a new one started). The reader answers whether the input was valid.
/// </summary>
internal sealed class FuzzRunner
{
    private readonly Func<byte[], bool> _read;
    private readonly TimeSpan _timeout;
    private Worker _worker;

    public FuzzRunner(Func<byte[], bool> read, TimeSpan timeout)
    {
        _read = read;
        _timeout = timeout;
        _worker = new Worker(read);
    }

    /// <summary>Where each input is written before it is read, so one that kills the process (a stack overflow
    /// cannot be caught) is left behind; null to write none.</summary>
    public string? LastInputPath { get; init; }

    public FuzzReport Run(FuzzMutator mutator, int count, int keep = 20)
    {
        var crashes = new List<FuzzFinding>();
        var hangs = new List<FuzzFinding>();
        var valid = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var input = mutator.Next();
            if (LastInputPath is not null)
            {
                File.WriteAllBytes(LastInputPath, input);
            }

            var outcome = _worker.Run(input, _timeout);
            switch (outcome)
            {
                case null:
                    if (hangs.Count < keep)
                    {
                        hangs.Add(new FuzzFinding(i, input, $"no answer within {_timeout.TotalSeconds:0.#} s"));
                    }
                    else
                    {
                        hangs.Add(new FuzzFinding(i, [], "hang"));
                    }

                    _worker = new Worker(_read); // the stuck one is left to finish (or not) on its own
                    break;
                case { Error: { } error }:
                    crashes.Add(new FuzzFinding(i, crashes.Count < keep ? input : [], error.ToString()));
                    break;
                case { Valid: true }:
                    valid++;
                    break;
            }
        }

        _worker.Stop();
        return new FuzzReport(count, valid, crashes, hangs, clock.Elapsed);
    }

    private sealed record Outcome(bool Valid, Exception? Error);

    /// <summary>One background thread that runs the reader on the input it is handed.</summary>
    private sealed class Worker
    {
        private readonly Func<byte[], bool> _read;
        private readonly SemaphoreSlim _start = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private byte[]? _input;
        private Outcome? _outcome;
        private volatile bool _stop;

        public Worker(Func<byte[], bool> read)
        {
            _read = read;
            var thread = new Thread(Loop, 16 * 1024 * 1024) { IsBackground = true, Name = "fuzz reader" };
            thread.Start();
        }

        public Outcome? Run(byte[] input, TimeSpan timeout)
        {
            _input = input;
            _start.Release();
            return _done.Wait(timeout) ? _outcome : null;
        }

        public void Stop()
        {
            _stop = true;
            _start.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _start.Wait();
                if (_stop)
                {
                    return;
                }

                try
                {
                    _outcome = new Outcome(_read(_input!), null);
                }
#pragma warning disable CA1031 // any exception out of a reader is the finding
                catch (Exception e)
#pragma warning restore CA1031
                {
                    _outcome = new Outcome(false, e);
                }

                _done.Release();
            }
        }
    }
}
