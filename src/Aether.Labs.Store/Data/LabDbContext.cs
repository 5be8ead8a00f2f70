using Microsoft.EntityFrameworkCore;

namespace Aether.Labs.Store.Data;

/// <summary>
/// The lab store's tables: <c>labs</c>, <c>nodes</c>, <c>link_states</c> and <c>interface_mappings</c>, snake_case
/// as in the reference, text GUIDs for ids. EF migrations are provider-specific, so each provider has its own context
/// type (<see cref="SqliteLabDbContext"/>, <see cref="PostgresLabDbContext"/>) with its own migrations and snapshot;
/// the model is this one.
/// </summary>
internal abstract class LabDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>Length of a text GUID.</summary>
    public const int IdLength = 36;

    public DbSet<LabRow> Labs => Set<LabRow>();

    public DbSet<NodeRow> Nodes => Set<NodeRow>();

    public DbSet<LinkRow> Links => Set<LinkRow>();

    public DbSet<MappingRow> Mappings => Set<MappingRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var lab = modelBuilder.Entity<LabRow>();
        lab.ToTable("labs");
        lab.HasKey(l => l.Id).HasName("pk_labs");
        lab.Property(l => l.Id).HasColumnName("id").HasMaxLength(IdLength);
        lab.Property(l => l.Name).HasColumnName("name").HasMaxLength(64);
        lab.Property(l => l.Fabric).HasColumnName("fabric").HasMaxLength(16);
        lab.Property(l => l.Definition).HasColumnName("definition");
        lab.Property(l => l.SourcePath).HasColumnName("source_path");
        lab.Property(l => l.CreatedAt).HasColumnName("created_at");
        lab.Property(l => l.UpdatedAt).HasColumnName("updated_at");
        lab.HasIndex(l => l.Name).IsUnique().HasDatabaseName("ux_labs_name");

        var node = modelBuilder.Entity<NodeRow>();
        node.ToTable("nodes");
        node.HasKey(n => n.Id).HasName("pk_nodes");
        node.Property(n => n.Id).HasColumnName("id").HasMaxLength(IdLength);
        node.Property(n => n.LabId).HasColumnName("lab_id").HasMaxLength(IdLength);
        node.Property(n => n.Name).HasColumnName("name").HasMaxLength(64);
        node.Property(n => n.Kind).HasColumnName("kind").HasMaxLength(50);
        node.Property(n => n.Namespace).HasColumnName("namespace").HasMaxLength(255);
        node.Property(n => n.CreatedAt).HasColumnName("created_at");
        node.Property(n => n.UpdatedAt).HasColumnName("updated_at");
        node.HasOne<LabRow>().WithMany().HasForeignKey(n => n.LabId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_nodes_lab");
        node.HasIndex(n => new { n.LabId, n.Name }).IsUnique().HasDatabaseName("ux_nodes_lab_name");

        var link = modelBuilder.Entity<LinkRow>();
        link.ToTable("link_states");
        link.HasKey(l => l.Id).HasName("pk_link_states");
        link.Property(l => l.Id).HasColumnName("id").HasMaxLength(IdLength);
        link.Property(l => l.LabId).HasColumnName("lab_id").HasMaxLength(IdLength);
        link.Property(l => l.LinkName).HasColumnName("link_name").HasMaxLength(255);
        link.Property(l => l.SourceNode).HasColumnName("source_node").HasMaxLength(64);
        link.Property(l => l.SourceInterface).HasColumnName("source_interface").HasMaxLength(50);
        link.Property(l => l.TargetNode).HasColumnName("target_node").HasMaxLength(64);
        link.Property(l => l.TargetInterface).HasColumnName("target_interface").HasMaxLength(50);
        link.Property(l => l.ActualState).HasColumnName("actual_state").HasMaxLength(16);
        link.Property(l => l.ErrorMessage).HasColumnName("error_message");
        link.Property(l => l.VlanTag).HasColumnName("vlan_tag");
        link.Property(l => l.Mtu).HasColumnName("mtu");
        link.Property(l => l.CheckedAt).HasColumnName("checked_at");
        link.Property(l => l.CreatedAt).HasColumnName("created_at");
        link.Property(l => l.UpdatedAt).HasColumnName("updated_at");
        link.Property(l => l.LinkKey).HasColumnName("link_key").HasMaxLength(255);
        link.Property(l => l.Seq).HasColumnName("seq");
        link.Property(l => l.SourceLinux).HasColumnName("source_linux").HasMaxLength(20);
        link.Property(l => l.TargetLinux).HasColumnName("target_linux").HasMaxLength(20);
        link.HasOne<LabRow>().WithMany().HasForeignKey(l => l.LabId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_link_states_lab");
        link.HasIndex(l => l.LabId).HasDatabaseName("ix_link_states_lab");
        link.HasIndex(l => new { l.LabId, l.LinkKey }).IsUnique().HasDatabaseName("ux_link_states_lab_link_key");

        var mapping = modelBuilder.Entity<MappingRow>();
        mapping.ToTable("interface_mappings");
        mapping.HasKey(m => m.Id).HasName("pk_interface_mappings");
        mapping.Property(m => m.Id).HasColumnName("id").HasMaxLength(IdLength);
        mapping.Property(m => m.LabId).HasColumnName("lab_id").HasMaxLength(IdLength);
        mapping.Property(m => m.NodeId).HasColumnName("node_id").HasMaxLength(IdLength);
        mapping.Property(m => m.OvsPort).HasColumnName("ovs_port").HasMaxLength(20);
        mapping.Property(m => m.OvsBridge).HasColumnName("ovs_bridge").HasMaxLength(50);
        mapping.Property(m => m.VlanTag).HasColumnName("vlan_tag");
        mapping.Property(m => m.LinuxInterface).HasColumnName("linux_interface").HasMaxLength(20);
        mapping.Property(m => m.VendorInterface).HasColumnName("vendor_interface").HasMaxLength(50);
        mapping.Property(m => m.DeviceType).HasColumnName("device_type").HasMaxLength(50);
        mapping.Property(m => m.CreatedAt).HasColumnName("created_at");
        mapping.Property(m => m.UpdatedAt).HasColumnName("updated_at");
        mapping.HasOne<LabRow>().WithMany().HasForeignKey(m => m.LabId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_interface_mappings_lab");
        mapping.HasOne<NodeRow>().WithMany().HasForeignKey(m => m.NodeId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_interface_mappings_node");
        mapping.HasIndex(m => new { m.LabId, m.NodeId, m.LinuxInterface }).IsUnique().HasDatabaseName("ux_interface_mappings_lab_node_linux");
        mapping.HasIndex(m => m.LabId).HasDatabaseName("ix_interface_mappings_lab");
        mapping.HasIndex(m => m.NodeId).HasDatabaseName("ix_interface_mappings_node");
        mapping.HasIndex(m => m.OvsPort).HasDatabaseName("ix_interface_mappings_ovs_port");
    }
}

/// <summary>The model on SQLite, with <c>Migrations/Sqlite</c>.</summary>
internal sealed class SqliteLabDbContext(DbContextOptions<SqliteLabDbContext> options) : LabDbContext(options);

/// <summary>The model on PostgreSQL, with <c>Migrations/Postgres</c>.</summary>
internal sealed class PostgresLabDbContext(DbContextOptions<PostgresLabDbContext> options) : LabDbContext(options);
