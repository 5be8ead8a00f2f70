using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>A test with its own namespace, a handle bound to it, and a veth pair (<see cref="A"/>, <see cref="B"/>)
/// inside it, both up.</summary>
public abstract class NamespaceTest : SandboxTest
{
    protected NetworkNamespace Namespace { get; private set; } = null!;

    protected NetlinkHandle Handle { get; private set; } = null!;

    protected string Ns => Namespace.Name!;

    protected string A { get; private set; } = null!;

    protected string B { get; private set; } = null!;

    protected int AIndex { get; private set; }

    protected int BIndex { get; private set; }

    protected override async Task SetUpAsync()
    {
        Namespace = Box.CreateNamespace("n");
        Handle = Box.OpenAt(Namespace);
        A = Box.Name("a");
        B = Box.Name("b");
        await Handle.CreateLinkAsync(new LinkSpec(A, new Veth(B)) { Up = true });
        await Handle.SetUpAsync(B);
        AIndex = (await Handle.GetLinkAsync(A)).Index;
        BIndex = (await Handle.GetLinkAsync(B)).Index;
    }
}
