using Aether.Netlink;
using Aether.Netlink.Namespaces;

namespace Aether.Reconcile.Sources;

/// <summary>What every source does before it observes: make sure its namespace still exists.</summary>
internal static class SourceNamespace
{
    /// <summary>Throws <see cref="NamespaceGoneException"/> when <paramref name="ns"/> is a named namespace whose
    /// <c>/run/netns</c> entry is gone (its fd may keep it alive, but nobody can reach it by name any more: the loop
    /// stops instead of recreating objects nobody will see). Within a pass (<see cref="PassCache"/>), each namespace
    /// is looked up once.</summary>
    public static void ThrowIfGone(NetworkNamespace? ns)
    {
        if (ns is { Name: { } name } && !PassCache.NamespaceExists(name))
        {
            throw new NamespaceGoneException($"namespace {name} no longer exists");
        }
    }

    /// <summary>The namespace's name for a source's <c>Name</c>: <c>links in blue</c>, <c>links in the host</c>.</summary>
    public static string Describe(NetlinkHandle handle) => handle.Namespace?.ToString() ?? "the host";
}
