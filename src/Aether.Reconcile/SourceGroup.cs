using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Aether.Reconcile;

/// <summary>
/// Several sources of one namespace driven as one: a pass runs each source's pass in stage order (links, addresses,
/// routes, sysctls) and stops at the first failure; the hints of all of them wake it. One loop per namespace instead
/// of one per subsystem: a quarter of the timers, wake-ups and passes.
/// </summary>
public sealed class SourceGroup : IReconcileSource
{
    private readonly IReconcileSource[] _sources;
    private readonly Func<CancellationToken, IAsyncEnumerable<object>>? _hints;

    /// <summary>Groups <paramref name="sources"/>, run in the order given.</summary>
    /// <param name="name">The group's name, for logs and reports.</param>
    /// <param name="sources">The sources, in the order their passes run.</param>
    /// <param name="hints">One hint stream for the whole group (a single monitor subscribed to every group the sources
    /// care about: one socket and one reader thread per namespace instead of one per source); null merges the
    /// sources' own.</param>
    public SourceGroup(string name, IReadOnlyList<IReconcileSource> sources, Func<CancellationToken, IAsyncEnumerable<object>>? hints = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(sources);
        Name = name;
        _sources = [.. sources];
        _hints = hints;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string Kind { get; init; } = "group";

    /// <summary>The grouped sources.</summary>
    public IReadOnlyList<IReconcileSource> Sources => _sources;

    /// <inheritdoc/>
    public async Task<PassResult> RunPassAsync(CancellationToken cancellationToken)
    {
        var plan = new List<Operation>();
        var applied = new List<Operation>();
        using var cache = PassCache.Begin();
        foreach (var source in _sources)
        {
            var result = await source.RunPassAsync(cancellationToken).ConfigureAwait(false);
            if (result.Applied.Count > 0 || result.Error is not null)
            {
                PassCache.Invalidate(); // what the next source reads must include what this one changed
            }

            plan.AddRange(result.Plan);
            applied.AddRange(result.Applied);
            if (result.Error is not null)
            {
                // What the later sources would have done is unknown until they observe: pending is what failed.
                return new PassResult(Plan.Of(plan), applied, result.Pending, result.Error);
            }
        }

        return new PassResult(Plan.Of(plan), applied, [], null);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<object>? Subscribe(CancellationToken cancellationToken)
    {
        if (_hints is not null)
        {
            return _hints(cancellationToken);
        }

        var streams = _sources.Select(s => s.Subscribe(cancellationToken)).OfType<IAsyncEnumerable<object>>().ToList();
        return streams.Count switch
        {
            0 => null,
            1 => streams[0],
            _ => MergeAsync(streams, cancellationToken),
        };
    }

    /// <summary>Several hint streams as one: hints in the order they arrive; it ends when all have ended, and fails
    /// when one fails.</summary>
    public static async IAsyncEnumerable<object> MergeAsync(IReadOnlyList<IAsyncEnumerable<object>> streams, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(streams);
        var merged = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = streams.Select(async stream =>
        {
            await foreach (var hint in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                merged.Writer.TryWrite(hint);
            }
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await foreach (var hint in merged.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return hint;
        }
    }
}
