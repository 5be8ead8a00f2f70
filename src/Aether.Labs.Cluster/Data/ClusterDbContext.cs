using Microsoft.EntityFrameworkCore;

namespace Aether.Labs.Cluster.Data;

/// <summary>
/// The cluster's tables (<c>cluster_hosts</c>, <c>cluster_placements</c>, <c>cluster_vnis</c>,
/// <c>cluster_link_ends</c>, <c>cluster_vteps</c>, <c>cluster_vtep_links</c>, <c>cluster_vlan_tags</c>, <c>cluster_probes</c>, <c>cluster_wireguard_tunnels</c>) and the VNI sequence
/// <c>cluster_vni_seq</c>, PostgreSQL only. Labs are named, not referenced by key, so the lab store's tables stay as
/// they are; the migrations history is <see cref="HistoryTable"/>, apart from the lab store's.
/// </summary>
internal sealed class ClusterDbContext(DbContextOptions<ClusterDbContext> options) : DbContext(options)
{
    /// <summary>The migrations history table of this context.</summary>
    public const string HistoryTable = "__aether_cluster_migrations";

    /// <summary>The first VNI handed out (below it: left to hand-made tunnels).</summary>
    public const int FirstVni = 4096;

    /// <summary>The last VNI (24 bits).</summary>
    public const int LastVni = 16_777_215;

    /// <summary>The first VLAN tag handed out to a link of an ovs-fabric lab.</summary>
    public const int FirstTag = 100;

    /// <summary>The last usable VLAN tag.</summary>
    public const int LastTag = 4094;

    public const int LabLength = 32;
    public const int NodeLength = 64;
    public const int LinkIdLength = 255;
    public const int VersionLength = 64;
    public const int PortNameLength = 15;
    public const int NamespaceLength = 255;
    public const int WireGuardKeyLength = 44;

    /// <summary>How many WireGuard tunnels the cluster holds at once (slots 0 to this less one).</summary>
    public const int WireGuardSlots = CrossHostWireGuard.Slots;

    public DbSet<HostRow> Hosts => Set<HostRow>();

    public DbSet<PlacementRow> Placements => Set<PlacementRow>();

    public DbSet<VniRow> Vnis => Set<VniRow>();

    public DbSet<LinkEndRow> LinkEnds => Set<LinkEndRow>();

    public DbSet<VtepRow> Vteps => Set<VtepRow>();

    public DbSet<VtepLinkRow> VtepLinks => Set<VtepLinkRow>();

    public DbSet<VlanTagRow> VlanTags => Set<VlanTagRow>();

    public DbSet<ProbeRow> Probes => Set<ProbeRow>();

    public DbSet<WireGuardTunnelRow> WireGuardTunnels => Set<WireGuardTunnelRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasSequence<int>("cluster_vni_seq").StartsAt(FirstVni).HasMin(FirstVni).HasMax(LastVni).IsCyclic();

        var host = modelBuilder.Entity<HostRow>();
        host.ToTable("cluster_hosts");
        host.HasKey(h => h.Id).HasName("pk_cluster_hosts");
        host.Property(h => h.Id).HasColumnName("id").HasMaxLength(HostId.MaxLength);
        host.Property(h => h.Underlay).HasColumnName("underlay").HasColumnType("inet");
        host.Property(h => h.AgentPid).HasColumnName("agent_pid");
        host.Property(h => h.Version).HasColumnName("version").HasMaxLength(VersionLength);
        host.Property(h => h.RegisteredAt).HasColumnName("registered_at").HasDefaultValueSql("now()");
        host.Property(h => h.LastSeen).HasColumnName("last_seen").HasDefaultValueSql("now()");
        host.Property(h => h.WireGuardKey).HasColumnName("wireguard_key").HasMaxLength(WireGuardKeyLength);

        var tunnel = modelBuilder.Entity<WireGuardTunnelRow>();
        tunnel.ToTable("cluster_wireguard_tunnels", t =>
        {
            t.HasCheckConstraint("ck_cluster_wireguard_tunnels_hosts", "host_a COLLATE \"C\" < host_b COLLATE \"C\"");
            t.HasCheckConstraint("ck_cluster_wireguard_tunnels_slot", $"slot BETWEEN 0 AND {WireGuardSlots - 1}");
        });
        tunnel.HasKey(t => new { t.Lab, t.HostA, t.HostB }).HasName("pk_cluster_wireguard_tunnels");
        tunnel.Property(t => t.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        tunnel.Property(t => t.HostA).HasColumnName("host_a").HasMaxLength(HostId.MaxLength);
        tunnel.Property(t => t.HostB).HasColumnName("host_b").HasMaxLength(HostId.MaxLength);
        tunnel.Property(t => t.Slot).HasColumnName("slot");
        tunnel.Property(t => t.AllocatedAt).HasColumnName("allocated_at").HasDefaultValueSql("now()");
        tunnel.HasIndex(t => t.Slot).IsUnique().HasDatabaseName("ux_cluster_wireguard_tunnels_slot");
        tunnel.HasOne<HostRow>().WithMany().HasForeignKey(t => t.HostA).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_wireguard_tunnels_host_a");
        tunnel.HasOne<HostRow>().WithMany().HasForeignKey(t => t.HostB).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_wireguard_tunnels_host_b");
        tunnel.HasIndex(t => t.HostA).HasDatabaseName("ix_cluster_wireguard_tunnels_host_a");
        tunnel.HasIndex(t => t.HostB).HasDatabaseName("ix_cluster_wireguard_tunnels_host_b");

        var placement = modelBuilder.Entity<PlacementRow>();
        placement.ToTable("cluster_placements");
        placement.HasKey(p => new { p.Lab, p.Node }).HasName("pk_cluster_placements");
        placement.Property(p => p.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        placement.Property(p => p.Node).HasColumnName("node").HasMaxLength(NodeLength);
        placement.Property(p => p.HostId).HasColumnName("host_id").HasMaxLength(HostId.MaxLength);
        placement.HasOne<HostRow>().WithMany().HasForeignKey(p => p.HostId).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_placements_host");
        placement.HasIndex(p => p.HostId).HasDatabaseName("ix_cluster_placements_host");

        var vni = modelBuilder.Entity<VniRow>();
        vni.ToTable("cluster_vnis", t => t.HasCheckConstraint("ck_cluster_vnis_scope", "scope IN ('link', 'tunnel')"));
        vni.HasKey(v => new { v.Lab, v.Scope, v.Key }).HasName("pk_cluster_vnis");
        vni.Property(v => v.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        vni.Property(v => v.Scope).HasColumnName("scope").HasMaxLength(8);
        vni.Property(v => v.Key).HasColumnName("key").HasMaxLength(LinkIdLength);
        vni.Property(v => v.Vni).HasColumnName("vni");
        vni.Property(v => v.AllocatedAt).HasColumnName("allocated_at").HasDefaultValueSql("now()");
        vni.HasIndex(v => v.Vni).IsUnique().HasDatabaseName("ux_cluster_vnis_vni");

        var end = modelBuilder.Entity<LinkEndRow>();
        end.ToTable("cluster_link_ends", t =>
        {
            t.HasCheckConstraint("ck_cluster_link_ends_end", "link_end IN ('a', 'b')");
            t.HasCheckConstraint("ck_cluster_link_ends_state", "state IN ('up', 'down', 'error')");
        });
        end.HasKey(e => new { e.Lab, e.LinkId, e.End }).HasName("pk_cluster_link_ends");
        end.Property(e => e.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        end.Property(e => e.LinkId).HasColumnName("link_id").HasMaxLength(LinkIdLength);
        end.Property(e => e.End).HasColumnName("link_end").HasMaxLength(1);
        end.Property(e => e.HostId).HasColumnName("host_id").HasMaxLength(HostId.MaxLength);
        end.Property(e => e.State).HasColumnName("state").HasMaxLength(8);
        end.Property(e => e.Message).HasColumnName("message");
        end.Property(e => e.CheckedAt).HasColumnName("checked_at").HasDefaultValueSql("now()");
        end.HasOne<HostRow>().WithMany().HasForeignKey(e => e.HostId).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_link_ends_host");
        end.HasIndex(e => e.HostId).HasDatabaseName("ix_cluster_link_ends_host");

        var vtep = modelBuilder.Entity<VtepRow>();
        vtep.ToTable("cluster_vteps", t => t.HasCheckConstraint("ck_cluster_vteps_remote", "remote_host_id <> host_id"));
        vtep.HasKey(v => v.Id).HasName("pk_cluster_vteps");
        vtep.Property(v => v.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        vtep.Property(v => v.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        vtep.Property(v => v.HostId).HasColumnName("host_id").HasMaxLength(HostId.MaxLength);
        vtep.Property(v => v.RemoteHostId).HasColumnName("remote_host_id").HasMaxLength(HostId.MaxLength);
        vtep.Property(v => v.PortName).HasColumnName("port_name").HasMaxLength(PortNameLength);
        vtep.Property(v => v.Vni).HasColumnName("vni");
        vtep.Property(v => v.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        vtep.HasOne<HostRow>().WithMany().HasForeignKey(v => v.HostId).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_vteps_host");
        vtep.HasOne<HostRow>().WithMany().HasForeignKey(v => v.RemoteHostId).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_vteps_remote_host");
        vtep.HasIndex(v => new { v.Lab, v.HostId, v.RemoteHostId }).IsUnique().HasDatabaseName("ux_cluster_vteps_lab_host_remote");
        vtep.HasIndex(v => new { v.HostId, v.PortName }).IsUnique().HasDatabaseName("ux_cluster_vteps_host_port");
        vtep.HasIndex(v => v.RemoteHostId).HasDatabaseName("ix_cluster_vteps_remote_host");

        var link = modelBuilder.Entity<VtepLinkRow>();
        link.ToTable("cluster_vtep_links");
        link.HasKey(l => new { l.VtepId, l.LinkId }).HasName("pk_cluster_vtep_links");
        link.Property(l => l.VtepId).HasColumnName("vtep_id");
        link.Property(l => l.LinkId).HasColumnName("link_id").HasMaxLength(LinkIdLength);
        link.Property(l => l.AttachedAt).HasColumnName("attached_at").HasDefaultValueSql("now()");
        link.HasOne<VtepRow>().WithMany().HasForeignKey(l => l.VtepId).OnDelete(DeleteBehavior.Restrict).HasConstraintName("fk_cluster_vtep_links_vtep");

        var tag = modelBuilder.Entity<VlanTagRow>();
        tag.ToTable("cluster_vlan_tags", t => t.HasCheckConstraint("ck_cluster_vlan_tags_tag", $"tag BETWEEN {FirstTag} AND {LastTag}"));
        tag.HasKey(t => new { t.Lab, t.LinkId }).HasName("pk_cluster_vlan_tags");
        tag.Property(t => t.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        tag.Property(t => t.LinkId).HasColumnName("link_id").HasMaxLength(LinkIdLength);
        tag.Property(t => t.Tag).HasColumnName("tag");
        tag.Property(t => t.AllocatedAt).HasColumnName("allocated_at").HasDefaultValueSql("now()");
        tag.HasIndex(t => new { t.Lab, t.Tag }).IsUnique().HasDatabaseName("ux_cluster_vlan_tags_lab_tag");

        var probe = modelBuilder.Entity<ProbeRow>();
        probe.ToTable("cluster_probes", t =>
        {
            t.HasCheckConstraint("ck_cluster_probes_state", "state IN ('requested', 'listening', 'sent', 'crossed', 'failed')");
            t.HasCheckConstraint("ck_cluster_probes_nonce", "length(nonce) = 16");
            t.HasCheckConstraint("ck_cluster_probes_timeout", "timeout_ms BETWEEN 1 AND 60000");
        });
        probe.HasKey(p => p.Id).HasName("pk_cluster_probes");
        probe.Property(p => p.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        probe.Property(p => p.Lab).HasColumnName("lab").HasMaxLength(LabLength);
        probe.Property(p => p.LinkId).HasColumnName("link_id").HasMaxLength(LinkIdLength);
        probe.Property(p => p.SenderHost).HasColumnName("sender_host").HasMaxLength(HostId.MaxLength);
        probe.Property(p => p.SenderNamespace).HasColumnName("sender_namespace").HasMaxLength(NamespaceLength);
        probe.Property(p => p.SenderInterface).HasColumnName("sender_interface").HasMaxLength(PortNameLength);
        probe.Property(p => p.ReceiverHost).HasColumnName("receiver_host").HasMaxLength(HostId.MaxLength);
        probe.Property(p => p.ReceiverNamespace).HasColumnName("receiver_namespace").HasMaxLength(NamespaceLength);
        probe.Property(p => p.ReceiverInterface).HasColumnName("receiver_interface").HasMaxLength(PortNameLength);
        probe.Property(p => p.Nonce).HasColumnName("nonce");
        probe.Property(p => p.TimeoutMs).HasColumnName("timeout_ms");
        probe.Property(p => p.State).HasColumnName("state").HasMaxLength(10);
        probe.Property(p => p.Problem).HasColumnName("problem");
        probe.Property(p => p.LatencyMs).HasColumnName("latency_ms");
        probe.Property(p => p.RequestedAt).HasColumnName("requested_at").HasDefaultValueSql("now()");
        probe.Property(p => p.ListeningAt).HasColumnName("listening_at");
        probe.Property(p => p.SentAt).HasColumnName("sent_at");
        probe.Property(p => p.ReceivedAt).HasColumnName("received_at");
        probe.Property(p => p.DoneAt).HasColumnName("done_at");
        probe.HasOne<HostRow>().WithMany().HasForeignKey(p => p.SenderHost).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_cluster_probes_sender");
        probe.HasOne<HostRow>().WithMany().HasForeignKey(p => p.ReceiverHost).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_cluster_probes_receiver");
        probe.HasIndex(p => new { p.ReceiverHost, p.State }).HasDatabaseName("ix_cluster_probes_receiver_state");
        probe.HasIndex(p => new { p.SenderHost, p.State }).HasDatabaseName("ix_cluster_probes_sender_state");
        probe.HasIndex(p => new { p.Lab, p.LinkId }).HasDatabaseName("ix_cluster_probes_lab_link");
    }
}
