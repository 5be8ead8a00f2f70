using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Rtnl;
using Scope = Aether.Reconcile.Scope;

namespace Aether.Topology;

public sealed partial class TopologyController
{
    private sealed partial class Session
    {
        private const MonitorGroups HintGroups = MonitorGroups.Links | MonitorGroups.Addresses | MonitorGroups.Routes;

        private readonly Dictionary<Scope, int> _nsids = [];
        private AllNamespacesMonitor? _shared;

        /// <summary>
        /// <c>run</c>: one monitor socket in the host's namespace hears every namespace of the session
        /// (<see cref="AllNamespacesMonitor"/>), instead of a socket in each: at 10,000 namespaces the difference between
        /// fitting a 20,000 descriptor limit and not. Each namespace needs an nsid in the host's namespace for it; one
        /// without (no veth to the host) gets one, the kernel's choice, as <c>ip netns set NAME auto</c> does. A
        /// namespace that cannot have one, or shares it with another scope (two names for one namespace), keeps a
        /// monitor of its own; so does every namespace when the kernel refuses the shared socket.
        /// </summary>
        public async Task ShareMonitorAsync(CancellationToken cancellationToken)
        {
            AllNamespacesMonitor monitor;
            try
            {
                monitor = new AllNamespacesMonitor(HintGroups, _owner._monitorOptions);
            }
            catch (NetlinkException)
            {
                return; // a monitor in each namespace, as before
            }

            try
            {
                var host = HandleOf(Scope.Host);
                var scopes = _namespaces.Keys.Where(s => !s.IsHost).ToList();
                var spaces = scopes.Select(s => _namespaces[s]).ToList();
                var ids = await host.GetNsIdsAsync(spaces, cancellationToken).ConfigureAwait(false);
                var missing = Enumerable.Range(0, ids.Length).Where(i => ids[i] < 0).ToList();
                foreach (var i in missing)
                {
                    try
                    {
                        await host.AssignNsIdAsync(spaces[i], cancellationToken).ConfigureAwait(false);
                    }
                    catch (NetlinkException ex) when (ex.Errno == Errno.EEXIST)
                    {
                        // Given one meanwhile (a veth just made to it).
                    }
                }

                if (missing.Count > 0)
                {
                    var again = await host.GetNsIdsAsync([.. missing.Select(i => spaces[i])], cancellationToken).ConfigureAwait(false);
                    for (var k = 0; k < missing.Count; k++)
                    {
                        ids[missing[k]] = again[k];
                    }
                }

                var taken = new HashSet<int> { AllNamespacesMonitor.Own };
                _nsids[Scope.Host] = AllNamespacesMonitor.Own;
                for (var i = 0; i < scopes.Count; i++)
                {
                    if (ids[i] != NsId.NotAssigned && taken.Add(ids[i]))
                    {
                        _nsids[scopes[i]] = ids[i];
                    }
                }

                _shared = monitor;
            }
            catch
            {
                monitor.Dispose();
                throw;
            }
        }

        /// <summary>The rtnetlink announcements of <paramref name="scope"/>: from the shared monitor when it hears the
        /// scope, otherwise from a monitor socket of the scope's own.</summary>
        private IAsyncEnumerable<NetlinkEvent> AnnouncementsAsync(Scope scope, CancellationToken cancellationToken) =>
            _shared is { } shared && _nsids.TryGetValue(scope, out var nsid)
                ? shared.SubscribeAsync(nsid, cancellationToken)
                : HandleOf(scope).MonitorAsync(HintGroups, _owner._monitorOptions, cancellationToken);

        private void DisposeSharedMonitor() => _shared?.Dispose();
    }
}
