using Aether.Labs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aether.Server.Tests.Labs;

/// <summary>How a link in a request's path is found (no I/O): by identity, or by its endpoints under either name in
/// either order, where node and interface names may hold <c>-</c> too.</summary>
public sealed class LinkNameTests
{
    private static readonly LabSpec Lab = LabLoader.Parse(
        """
        name: names
        nodes:
          r-1: { kind: arista_ceos }
          mx-2: { kind: juniper_vmx }
          srl: { kind: nokia_srlinux }
        links:
          - endpoints: ["r-1:Ethernet1", "mx-2:ge-0/0/0"]
          - endpoints: ["srl:ethernet-1/1", "mx-2:ge-0/0/1"]
        """,
        "lab.yaml").Lab!;

    private static LabHost Host() => new(new ServerOptions { DatabasePath = "/nonexistent/aether.db" }, NullLoggerFactory.Instance, TimeProvider.System);

    [Theory]
    [InlineData("mx-2:eth1-r-1:eth1", "mx-2:eth1-r-1:eth1")]
    [InlineData("r-1:Ethernet1-mx-2:ge-0/0/0", "mx-2:eth1-r-1:eth1")]
    [InlineData("mx-2:ge-0/0/0-r-1:Ethernet1", "mx-2:eth1-r-1:eth1")]
    [InlineData("r-1:eth1-mx-2:ge-0/0/0", "mx-2:eth1-r-1:eth1")]
    [InlineData("r-1:Et1-mx-2:eth1", "mx-2:eth1-r-1:eth1")]
    [InlineData("srl:ethernet-1/1-mx-2:ge-0/0/1", "mx-2:eth2-srl:e1-1")]
    [InlineData("mx-2:eth2-srl:e1-1", "mx-2:eth2-srl:e1-1")]
    public void A_link_is_found_by_either_name_in_either_order(string path, string id) =>
        Assert.Equal(id, Host().FindLink(Lab, path)?.Id.Value);

    [Theory]
    [InlineData("r-1:Ethernet2-mx-2:ge-0/0/0")]
    [InlineData("r-1:Ethernet1-srl:ethernet-1/1")]
    [InlineData("r-1:Ethernet1")]
    [InlineData("x:eth1-y:eth1")]
    [InlineData("")]
    [InlineData("-")]
    public void No_link_is_found_for_other_names(string path) => Assert.Null(Host().FindLink(Lab, path));
}
