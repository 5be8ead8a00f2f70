using System.ComponentModel.DataAnnotations.Schema;
using Microsoft.EntityFrameworkCore;

namespace Aether.Server.Store;

/// <summary>One row of <c>docker_endpoints</c>: an endpoint of a Docker driver network, with its address and, once
/// joined, its container's sandbox.</summary>
[Table("docker_endpoints")]
[PrimaryKey(nameof(NetworkId), nameof(EndpointId))]
internal sealed class DockerEndpointRow
{
    /// <summary>Docker's network id.</summary>
    [Column("network_id")]
    public required string NetworkId { get; set; }

    /// <summary>Docker's endpoint id, also the hub attachment's id.</summary>
    [Column("endpoint_id")]
    public required string EndpointId { get; set; }

    /// <summary>The address with the network's prefix length (<c>10.1.0.2/24</c>).</summary>
    [Column("address")]
    public required string Address { get; set; }

    /// <summary>The container's network namespace (<c>Join</c>'s sandbox key), or null before the join.</summary>
    [Column("sandbox_key")]
    public string? SandboxKey { get; set; }

    /// <summary>The container-side interface the hub made (<c>eth1</c>), or null before the join.</summary>
    [Column("interface")]
    public string? Interface { get; set; }
}
