using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Aether.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// Runs work inside a network namespace on a dedicated OS thread that does nothing else.
/// <para>
/// A network namespace belongs to a thread, not a process: <c>setns</c> moves only the calling thread. A thread-pool
/// thread that called <c>setns</c> would carry the namespace into whatever work the pool gives it next, silently.
/// So <c>setns</c> and <c>unshare</c> are called here and only here, on a thread nobody else is ever handed. Every job
/// enters its own namespace first, so no job inherits the previous one's; a job whose <c>setns</c> fails ends the
/// thread (its namespace is then unknown). The thread exits after a short idle time, so it is short-lived, yet a burst
/// of jobs (opening sockets in a thousand namespaces) pays for one thread start, not a thousand.
/// What a job opens (a netlink socket, a /proc/sys file) stays bound to the namespace after the thread is gone.
/// </para>
/// </summary>
internal static class NamespaceThread
{
    private const int StackSize = 256 * 1024;
    private const int IdleMilliseconds = 50;

    // Two pools: creating a namespace (unshare) can wait for seconds on the kernel's pernet lock while it tears down
    // namespaces deleted earlier; entering one (setns, to open a socket) never does and must not queue behind it.
    private static readonly Pool Enter = new("aether-netns");
    private static readonly Pool Create = new("aether-netns-new");

    /// <summary>The process's own namespace, where idle threads wait (opened once; kept for the process's life).</summary>
    private static readonly Lazy<int> Home = new(static () =>
    {
        var fd = Libc.Open("/proc/self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        return fd >= 0 ? fd : throw NetlinkException.FromLastError("open namespace", "/proc/self/ns/net");
    });

    /// <summary>Runs <paramref name="work"/> inside <paramref name="target"/> and returns its result, blocking the caller.</summary>
    public static T Run<T>(NetworkNamespace target, Func<T> work) => Run(target, static w => w(), work);

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> inside <paramref name="target"/>, blocking the caller.</summary>
    public static TResult Run<TState, TResult>(NetworkNamespace target, Func<TState, TResult> work, TState state)
    {
        ArgumentNullException.ThrowIfNull(target);
        var job = new Job<TState, TResult>(target, work, state);
        Enter.Submit(job);
        return job.WaitForResult();
    }

    /// <summary>Runs <paramref name="work"/> inside each of <paramref name="targets"/>, blocking the caller: the targets
    /// are split among the namespace threads, each entering its share one after the other in one job, so a thousand
    /// namespaces cost a few hand-offs between threads instead of a thousand. Each result is the work's, or the error
    /// that entering its namespace or the work gave.</summary>
    public static (TResult? Result, Exception? Error)[] RunEach<TState, TResult>(IReadOnlyList<NetworkNamespace> targets, Func<TState, TResult> work, TState state)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var results = new (TResult? Result, Exception? Error)[targets.Count];
        RunShares(Enter, targets.Count, (first, shares) => new EachJob<TState, TResult>(targets, first, shares, work, state, results));
        return results;
    }

    /// <summary>Runs <paramref name="work"/> in a brand-new, unnamed network namespace (<c>unshare(CLONE_NEWNET)</c>).</summary>
    public static TResult RunInNew<TState, TResult>(Func<TState, TResult> work, TState state)
    {
        var job = new Job<TState, TResult>(null, work, state);
        Create.Submit(job);
        return job.WaitForResult();
    }

    /// <summary>Runs <paramref name="work"/> for each of <paramref name="count"/> items, each in a brand-new namespace
    /// of its own: the items are split among the creating threads, each making its share one after the other in one
    /// job (an <c>unshare</c> from the namespace the item before it made), so a thousand namespaces cost a few
    /// hand-offs between threads instead of a thousand, and a trip home each. After the first failure on any thread no
    /// item is started; an item not started is not <c>Ran</c>.</summary>
    public static (TResult? Result, Exception? Error, bool Ran)[] RunInNewEach<TState, TResult>(int count, Func<TState, int, TResult> work, TState state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var results = new (TResult? Result, Exception? Error, bool Ran)[count];
        var stop = new StrongBox<bool>();
        RunShares(Create, count, (first, shares) => new NewEachJob<TState, TResult>(count, first, shares, work, state, results, stop));
        return results;
    }

    /// <summary>Splits <paramref name="count"/> items into one share per thread of <paramref name="pool"/> (share
    /// <c>first</c> takes items <c>first</c>, <c>first + shares</c>, …), submits the job <paramref name="job"/> makes
    /// for each, and waits until every one has ended.</summary>
    private static void RunShares(Pool pool, int count, Func<int, int, Job> job)
    {
        var shares = Math.Min(count, Pool.MaxThreads);
        var jobs = new Job[shares];
        for (var i = 0; i < shares; i++)
        {
            jobs[i] = job(i, shares);
            pool.Submit(jobs[i]);
        }

        foreach (var submitted in jobs)
        {
            submitted.WaitForEnd();
        }
    }

    /// <summary>Dedicated threads, at most one per core, that serve a queue of jobs and end after a short idle time.</summary>
    private sealed class Pool(string threadName)
    {
        public static readonly int MaxThreads = Math.Max(1, Environment.ProcessorCount);
        private readonly Queue<Job> _jobs = new();
        private int _threads;
        private int _idle;

        public void Submit(Job job)
        {
            lock (_jobs)
            {
                _jobs.Enqueue(job);
                if (_idle > 0)
                {
                    Monitor.Pulse(_jobs);
                    return;
                }

                if (_threads >= MaxThreads)
                {
                    return; // a busy thread takes it next
                }

                _threads++;
            }

            StartThread();
        }

        /// <summary>With no job waiting, goes back to the process's namespace before idling: a thread left in a
        /// namespace holds it, and a namespace deleted by name must be free to go as soon as nothing of its user holds
        /// it. False when that fails (the thread's namespace is then unknown, and it must end).</summary>
        private bool HomeWhenIdle()
        {
            lock (_jobs)
            {
                if (_jobs.Count > 0)
                {
                    return true; // the next job enters its own namespace anyway
                }
            }

            try
            {
                return Libc.SetNs(Home.Value, Libc.CLONE_NEWNET) == 0;
            }
            catch (NetlinkException)
            {
                return false; // no home to go to: end the thread
            }
        }

        private void StartThread() => new Thread(Serve, StackSize) { IsBackground = true, Name = threadName }.UnsafeStart();

        private void Serve()
        {
            while (true)
            {
                Job job;
                lock (_jobs)
                {
                    while (_jobs.Count == 0)
                    {
                        _idle++;
                        var woken = Monitor.Wait(_jobs, IdleMilliseconds);
                        _idle--;
                        if (!woken && _jobs.Count == 0)
                        {
                            _threads--;
                            return; // idle: the thread ends (at home, see HomeWhenIdle)
                        }
                    }

                    job = _jobs.Dequeue();
                }

                if (!job.Execute() || !HomeWhenIdle())
                {
                    // setns failed: this thread's namespace is unknown now, so it must not run anything else.
                    bool replace;
                    lock (_jobs)
                    {
                        replace = _jobs.Count > 0;
                        if (!replace)
                        {
                            _threads--;
                        }
                    }

                    if (replace)
                    {
                        StartThread();
                    }

                    return;
                }
            }
        }
    }

    private abstract class Job
    {
        private bool _done;

        /// <summary>Enters the namespace and runs; false when entering failed.</summary>
        public abstract bool Execute();

        /// <summary>Blocks until <see cref="End"/>.</summary>
        public void WaitForEnd()
        {
            lock (this)
            {
                while (!_done)
                {
                    Monitor.Wait(this);
                }
            }
        }

        /// <summary>Wakes whoever waits for this job (the namespace thread, once the job has run).</summary>
        protected void End()
        {
            lock (this)
            {
                _done = true;
                Monitor.Pulse(this);
            }
        }
    }

    /// <summary>Every <c>shares</c>-th target from <c>first</c> on: each entered in turn (a failed <c>setns</c> leaves
    /// its work undone and its error in its slot; the thread still enters the next one, and ends after this job, as any
    /// thread whose <c>setns</c> failed does).</summary>
    private sealed class EachJob<TState, TResult>(IReadOnlyList<NetworkNamespace> targets, int first, int shares, Func<TState, TResult> work, TState state, (TResult? Result, Exception? Error)[] results) : Job
    {
        public override bool Execute()
        {
            var entered = true;
            try
            {
                for (var i = first; i < targets.Count; i += shares)
                {
                    var target = targets[i];
                    var addedRef = false;
                    try
                    {
                        target.DangerousAddRef(ref addedRef);
                        if (Libc.SetNs((int)target.DangerousGetHandle(), Libc.CLONE_NEWNET) != 0)
                        {
                            entered = false;
                            throw NetlinkException.FromLastError("setns", target.ToString());
                        }

                        results[i] = (work(state), null);
                    }
                    catch (Exception ex)
                    {
                        results[i] = (default, ex);
                    }
                    finally
                    {
                        if (addedRef)
                        {
                            target.DangerousRelease();
                        }
                    }
                }
            }
            finally
            {
                End();
            }

            return entered;
        }
    }

    /// <summary>Every <c>shares</c>-th item from <c>first</c> on, each in a namespace made for it, until any item of
    /// any share fails (<c>stop</c>). A failed <c>unshare</c> ends the thread after this job; a failed work leaves the
    /// thread in the namespace it made, which the next <c>unshare</c> (or the trip home) leaves.</summary>
    private sealed class NewEachJob<TState, TResult>(int count, int first, int shares, Func<TState, int, TResult> work, TState state, (TResult? Result, Exception? Error, bool Ran)[] results, StrongBox<bool> stop) : Job
    {
        public override bool Execute()
        {
            var entered = true;
            try
            {
                for (var i = first; i < count && !Volatile.Read(ref stop.Value); i += shares)
                {
                    try
                    {
                        if (Libc.Unshare(Libc.CLONE_NEWNET) != 0)
                        {
                            entered = false;
                            throw NetlinkException.FromLastError("unshare", "CLONE_NEWNET");
                        }

                        results[i] = (work(state, i), null, true);
                    }
                    catch (Exception ex)
                    {
                        results[i] = (default, ex, true);
                        Volatile.Write(ref stop.Value, true);
                        break;
                    }
                }
            }
            finally
            {
                End();
            }

            return entered;
        }
    }

    private sealed class Job<TState, TResult>(NetworkNamespace? target, Func<TState, TResult> work, TState state) : Job
    {
        private TResult? _result;
        private ExceptionDispatchInfo? _error;

        public override bool Execute()
        {
            var entered = true;
            var addedRef = false;
            try
            {
                if (target is not null)
                {
                    target.DangerousAddRef(ref addedRef);
                    if (Libc.SetNs((int)target.DangerousGetHandle(), Libc.CLONE_NEWNET) != 0)
                    {
                        entered = false;
                        throw NetlinkException.FromLastError("setns", target.ToString());
                    }
                }
                else if (Libc.Unshare(Libc.CLONE_NEWNET) != 0)
                {
                    entered = false;
                    throw NetlinkException.FromLastError("unshare", "CLONE_NEWNET");
                }

                _result = work(state);
            }
            catch (Exception ex)
            {
                _error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                if (addedRef)
                {
                    target!.DangerousRelease();
                }

                End();
            }

            return entered;
        }

        public TResult WaitForResult()
        {
            WaitForEnd();
            _error?.Throw();
            return _result!;
        }
    }
}
