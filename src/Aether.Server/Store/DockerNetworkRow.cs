using System.ComponentModel.DataAnnotations;
using System.ComponentModel.DataAnnotations.Schema;

namespace Aether.Server.Store;

/// <summary>One row of <c>docker_networks</c>: a network the Docker driver made, as docker's <c>CreateNetwork</c>
/// gave it. dockerd never sends <c>CreateNetwork</c> again after the daemon restarts, so the driver keeps what it needs
/// here (the hub keeps the network's own request, key included, in <c>hub_networks</c>).</summary>
[Table("docker_networks")]
internal sealed class DockerNetworkRow
{
    /// <summary>Docker's network id, also the hub network's id.</summary>
    [Key]
    [Column("network_id")]
    public required string NetworkId { get; set; }

    /// <summary>The network (<c>10.1.0.0/24</c>).</summary>
    [Column("cidr")]
    public required string Cidr { get; set; }

    /// <summary>The gateway.</summary>
    [Column("gateway")]
    public required string Gateway { get; set; }

    /// <summary>Whether the driver allocates the endpoints' addresses (the null IPAM driver).</summary>
    [Column("allocates")]
    public bool Allocates { get; set; }

    /// <summary>Unix milliseconds of the creation.</summary>
    [Column("created_at")]
    public long CreatedAt { get; set; }
}
