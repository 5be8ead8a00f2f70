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
            private readonly Lock _lock = new();
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
                        lock (_lock)
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
    }
}
