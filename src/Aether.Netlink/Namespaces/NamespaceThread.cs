using System.Runtime.ExceptionServices;
using Aether.Netlink.Interop;

namespace Aether.Netlink.Namespaces;

/// <summary>
/// Runs work inside a network namespace on a dedicated OS thread that is created for that work and ends with it.
/// <para>
/// A network namespace belongs to a thread, not a process: <c>setns</c> moves only the calling thread. A thread-pool
/// thread that called <c>setns</c> would carry the namespace into whatever work the pool gives it next, silently.
/// So <c>setns</c> is called here and only here, on a thread nobody else can ever be handed; what is opened on it
/// (a netlink socket, a /proc/sys file) stays bound to the namespace after the thread is gone.
/// </para>
/// </summary>
internal static class NamespaceThread
{
    private const int StackSize = 256 * 1024;

    /// <summary>Runs <paramref name="work"/> inside <paramref name="target"/> and returns its result, blocking the caller.</summary>
    public static T Run<T>(NetworkNamespace target, Func<T> work) => Run(target, static w => w(), work);

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> inside <paramref name="target"/>, blocking the caller.</summary>
    public static TResult Run<TState, TResult>(NetworkNamespace target, Func<TState, TResult> work, TState state)
    {
        ArgumentNullException.ThrowIfNull(target);
        var job = new Job<TState, TResult>(target, work, state, enter: true);
        var thread = new Thread(job.Execute, StackSize) { IsBackground = true, Name = "aether-netns" };
        thread.UnsafeStart();
        thread.Join();
        return job.Result();
    }

    /// <summary>Runs <paramref name="work"/> in a brand-new, unnamed network namespace (<c>unshare(CLONE_NEWNET)</c>).</summary>
    public static TResult RunInNew<TState, TResult>(Func<TState, TResult> work, TState state)
    {
        var job = new Job<TState, TResult>(null, work, state, enter: false);
        var thread = new Thread(job.Execute, StackSize) { IsBackground = true, Name = "aether-netns-new" };
        thread.UnsafeStart();
        thread.Join();
        return job.Result();
    }

    private sealed class Job<TState, TResult>(NetworkNamespace? target, Func<TState, TResult> work, TState state, bool enter)
    {
        private TResult? _result;
        private ExceptionDispatchInfo? _error;

        public void Execute()
        {
            var addedRef = false;
            try
            {
                if (enter)
                {
                    target!.DangerousAddRef(ref addedRef);
                    if (Libc.SetNs((int)target.DangerousGetHandle(), Libc.CLONE_NEWNET) != 0)
                    {
                        throw NetlinkException.FromLastError("setns", target.ToString());
                    }
                }
                else if (Libc.Unshare(Libc.CLONE_NEWNET) != 0)
                {
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
            }

            // The thread ends here, still inside the namespace: nothing else ever runs on it.
        }

        public TResult Result()
        {
            _error?.Throw();
            return _result!;
        }
    }
}
