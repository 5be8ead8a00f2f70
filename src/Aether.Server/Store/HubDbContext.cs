using Microsoft.EntityFrameworkCore;

namespace Aether.Server.Store;

/// <summary>The daemon's database. The schema is written by hand in <see cref="Schema"/> (no EF migrations: the
/// design-time tools are not available here); this maps the tables it creates.</summary>
internal sealed class HubDbContext(DbContextOptions<HubDbContext> options) : DbContext(options)
{
    public DbSet<NetworkRow> Networks => Set<NetworkRow>();

    public DbSet<AttachmentRow> Attachments => Set<AttachmentRow>();

    public DbSet<DockerNetworkRow> DockerNetworks => Set<DockerNetworkRow>();

    public DbSet<DockerEndpointRow> DockerEndpoints => Set<DockerEndpointRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var network = modelBuilder.Entity<NetworkRow>();
        network.ToTable("hub_networks");
        network.HasKey(n => n.NetworkId);
        network.Property(n => n.NetworkId).HasColumnName("network_id");
        network.Property(n => n.Index).HasColumnName("idx");
        network.Property(n => n.Container).HasColumnName("container");
        network.Property(n => n.ContainerPid).HasColumnName("container_pid");
        network.Property(n => n.PrivateKey).HasColumnName("private_key");
        network.Property(n => n.ListenPort).HasColumnName("listen_port");
        network.Property(n => n.PeerEndpoint).HasColumnName("peer_endpoint");
        network.Property(n => n.PeerPublicKey).HasColumnName("peer_public_key");
        network.Property(n => n.Address).HasColumnName("address");
        network.Property(n => n.NetworkCidr).HasColumnName("network_cidr");
        network.Property(n => n.Gateway).HasColumnName("gateway");
        network.Property(n => n.PersistentKeepalive).HasColumnName("persistent_keepalive");
        network.Property(n => n.Peers).HasColumnName("peers");
        network.Property(n => n.NatPolicy).HasColumnName("nat_policy");
        network.Property(n => n.UpdatedAt).HasColumnName("updated_at");

        var attachment = modelBuilder.Entity<AttachmentRow>();
        attachment.ToTable("hub_attachments");
        attachment.HasKey(a => new { a.NetworkId, a.AttachmentId });
        attachment.Property(a => a.NetworkId).HasColumnName("network_id");
        attachment.Property(a => a.AttachmentId).HasColumnName("attachment_id");
        attachment.Property(a => a.Container).HasColumnName("container");
        attachment.Property(a => a.ContainerPid).HasColumnName("container_pid");
        attachment.Property(a => a.Interface).HasColumnName("interface");
        attachment.Property(a => a.Address).HasColumnName("address");
        attachment.Property(a => a.HostInterface).HasColumnName("host_interface");
        attachment.Property(a => a.DefaultRoute).HasColumnName("default_route");
        attachment.Property(a => a.UpdatedAt).HasColumnName("updated_at");
    }
}
