using System.Runtime.ExceptionServices;
using Aether.Reconcile;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    private sealed partial class Session
    {
        /// <summary>
        /// One stage's source in one scope, built on first use by one caller while any other waits (a build that
        /// throws throws the same to every later caller), as <see cref="Lazy{T}"/> does. Written by hand because a
        /// plan makes one per stage and scope (6000 for a thousand namespaces), and a <see cref="Lazy{T}"/> of a
        /// closure costs four objects each where this costs two.
        /// </summary>
        private sealed class SourceCell(Session session, Stage stage, Scope scope)
        {
            private IReconcileSource? _value;
            private ExceptionDispatchInfo? _failure;
            private volatile bool _built;

            /// <summary>Whether the source has been built (without failing).</summary>
            public bool IsValueCreated => _built && _failure is null;

            /// <summary>The source, built now if it was not; null where the stage has none in the scope.</summary>
            public IReconcileSource? Value
            {
                get
                {
                    if (!_built)
                    {
                        lock (this) // a private cell nobody else locks: no lock object per cell (6000 in a plan)
                        {
                            if (!_built)
                            {
                                try
                                {
                                    _value = session.Build(stage, scope);
                                }
                                catch (Exception ex)
                                {
                                    _failure = ExceptionDispatchInfo.Capture(ex);
                                }

                                _built = true;
                            }
                        }
                    }

                    _failure?.Throw();
                    return _value;
                }
            }
        }

        /// <summary>
        /// The session's source cells, one per stage and scope, made on first ask, in one array by stage and the
        /// scope's place in the file (a session's scopes are the file's: the host and its namespaces). A plan of a
        /// thousand namespaces asks for 6000, and a concurrent map of them took about 1.3 MB of nodes.
        /// </summary>
        private sealed class SourceCells(Session session, IReadOnlyDictionary<Scope, int> places)
        {
            private static readonly int Stages = Enum.GetValues<Stage>().Length;
            private readonly SourceCell?[] _cells = new SourceCell?[Stages * places.Count];

            /// <summary>The cell of a stage in one of the file's scopes, made now if there was none.</summary>
            public SourceCell For(Stage stage, Scope scope)
            {
                ref var slot = ref _cells[(places[scope] * Stages) + (int)stage];
                return Volatile.Read(ref slot) ?? Interlocked.CompareExchange(ref slot, new SourceCell(session, stage, scope), null) ?? slot;
            }

            /// <summary>The cell of a stage in a scope, or null when none was made (or the scope is not the file's).</summary>
            public SourceCell? Made(Stage stage, Scope scope) =>
                places.TryGetValue(scope, out var place) ? Volatile.Read(ref _cells[(place * Stages) + (int)stage]) : null;

            /// <summary>Every cell made so far.</summary>
            public IEnumerable<SourceCell> All => _cells.OfType<SourceCell>();
        }
    }
}
