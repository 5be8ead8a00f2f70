using Aether.Labs.Store.Data;
using Microsoft.EntityFrameworkCore;

namespace Aether.Labs.Store;

public sealed partial class LabStore
{
    /// <inheritdoc/>
    /// <remarks>A row is written only when something in it changed (its <c>updated_at</c> moves then), so saving the
    /// same lab twice changes nothing. A stored link keeps its state, error, VLAN and check time; its endpoints as
    /// written and its MTU follow the lab.</remarks>
    /// <exception cref="ArgumentException">The lab has two nodes of one name or two links of one identity.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SaveLabAsync(LabSpec lab, string definition, CancellationToken cancellationToken = default)
    {
        StoreText.CheckLab(lab, definition);
        return RunAsync($"save lab '{lab.Name}'", async db =>
        {
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await SaveRowsAsync(db, lab, definition, StoreText.Now(), cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One transaction: the lab's rows as <see cref="SaveLabAsync"/> writes them, the mappings as
    /// <see cref="SetMappingsAsync"/> and the states as <see cref="SetLinkStatesAsync"/> do, from the rows just saved
    /// (nothing is read back). A deploy's store work is then one round of queries, not four.</remarks>
    /// <exception cref="ArgumentException">As for <see cref="SaveLabAsync"/> and <see cref="SetMappingsAsync"/>.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<LinkState>> SaveForDeployAsync(LabSpec lab, string definition, Func<IReadOnlyList<LinkState>, DeployIntent> intent, CancellationToken cancellationToken = default)
    {
        StoreText.CheckLab(lab, definition);
        ArgumentNullException.ThrowIfNull(intent);
        return RunAsync<IReadOnlyList<LinkState>>($"save lab '{lab.Name}' for deploy", async db =>
        {
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var now = StoreText.Now();
                var (labId, nodes, links) = await SaveRowsAsync(db, lab, definition, now, cancellationToken).ConfigureAwait(false);
                var wanted = intent(InOrder(links));
                StoreText.CheckUnique(lab.Name, "interface mapping", wanted.Mappings.Select(m => m.Node + ":" + m.Linux));
                var stored = (await db.Mappings.Where(m => m.LabId == labId).ToListAsync(cancellationToken).ConfigureAwait(false))
                    .ToDictionary(m => (m.NodeId, m.LinuxInterface));
                WriteMappings(db, lab.Name, labId, nodes, stored, wanted.Mappings, now);
                WriteStates(links.ToDictionary(r => r.LinkKey, StringComparer.Ordinal), wanted.States, now);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return InOrder(links);
            }
        }, cancellationToken);
    }

    /// <summary>Adds or updates the lab's row, nodes and links in <paramref name="db"/> (not saved yet); returns the
    /// lab's id, its nodes' ids by name and its link rows.</summary>
    private async Task<(string LabId, Dictionary<string, string> Nodes, List<LinkRow> Links)> SaveRowsAsync(LabDbContext db, LabSpec lab, string definition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await LockLabAsync(db, lab.Name, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            row = new LabRow { Id = StoreText.NewId(), Name = lab.Name, Fabric = StoreText.Fabric(lab.Fabric), Definition = definition, SourcePath = lab.SourcePath, CreatedAt = now, UpdatedAt = now };
            db.Labs.Add(row);
        }
        else if (!StoreText.Same(row.Fabric, StoreText.Fabric(lab.Fabric)) || !StoreText.Same(row.Definition, definition) || !StoreText.Same(row.SourcePath, lab.SourcePath))
        {
            (row.Fabric, row.Definition, row.SourcePath, row.UpdatedAt) = (StoreText.Fabric(lab.Fabric), definition, lab.SourcePath, now);
        }

        var nodes = await SaveNodesAsync(db, row.Id, lab.Nodes, now, cancellationToken).ConfigureAwait(false);
        var links = await SaveLinksAsync(db, row.Id, lab.Links, now, cancellationToken).ConfigureAwait(false);
        return (row.Id, nodes, links);
    }

    /// <inheritdoc/>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<StoredLab?> GetLabAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync($"read lab '{name}'", async db =>
        {
            var row = await db.Labs.AsNoTracking().FirstOrDefaultAsync(l => l.Name == name, cancellationToken).ConfigureAwait(false);
            return row is null ? null : ToStoredLab(row);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<StoredLab>> ListLabsAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StoredLab>>("list labs", async db =>
        {
            var rows = await db.Labs.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
            return [.. rows.OrderBy(r => r.Name, StringComparer.Ordinal).Select(ToStoredLab)];
        }, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The database deletes the lab's nodes, links and mappings with it (foreign keys with
    /// <c>ON DELETE CASCADE</c>).</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<bool> DeleteLabAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync($"delete lab '{name}'", async db =>
            await db.Labs.Where(l => l.Name == name).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0, cancellationToken);
    }

    /// <summary>The lab's row, tracked; on PostgreSQL locked (<c>FOR UPDATE</c>) until the transaction ends, so that
    /// two saves of one lab take turns. SQLite's transactions already do (<c>BEGIN IMMEDIATE</c>).</summary>
    private async Task<LabRow?> LockLabAsync(LabDbContext db, string name, CancellationToken cancellationToken)
    {
        if (Provider == LabStoreProvider.Postgres)
        {
            var locked = await db.Labs.FromSql($"SELECT * FROM labs WHERE name = {name} FOR UPDATE").ToListAsync(cancellationToken).ConfigureAwait(false);
            return locked.FirstOrDefault();
        }

        return await FindLabAsync(db, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lab's row, tracked, or null.</summary>
    private static Task<LabRow?> FindLabAsync(LabDbContext db, string name, CancellationToken cancellationToken) =>
        db.Labs.FirstOrDefaultAsync(l => l.Name == name, cancellationToken);

    /// <summary>The lab's link rows, tracked.</summary>
    private static Task<List<LinkRow>> LinksOfAsync(LabDbContext db, string labId, CancellationToken cancellationToken) =>
        db.Links.Where(l => l.LabId == labId).ToListAsync(cancellationToken);

    /// <summary>The lab's nodes' ids by name, after the update.</summary>
    private static async Task<Dictionary<string, string>> SaveNodesAsync(LabDbContext db, string labId, IReadOnlyList<LabNode> nodes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var stored = (await db.Nodes.Where(n => n.LabId == labId).ToListAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(n => n.Name, StringComparer.Ordinal);
        var ids = new Dictionary<string, string>(nodes.Count, StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (stored.Remove(node.Name, out var row))
            {
                if (!StoreText.Same(row.Kind, node.Kind) || !StoreText.Same(row.Namespace, node.Namespace))
                {
                    (row.Kind, row.Namespace, row.UpdatedAt) = (node.Kind, node.Namespace, now);
                }
            }
            else
            {
                row = new NodeRow { Id = StoreText.NewId(), LabId = labId, Name = node.Name, Kind = node.Kind, Namespace = node.Namespace, CreatedAt = now, UpdatedAt = now };
                db.Nodes.Add(row);
            }

            ids[node.Name] = row.Id;
        }

        db.Nodes.RemoveRange(stored.Values);
        return ids;
    }

    /// <summary>The lab's link rows, after the update.</summary>
    private static async Task<List<LinkRow>> SaveLinksAsync(LabDbContext db, string labId, IReadOnlyList<LabLink> links, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await LinksOfAsync(db, labId, cancellationToken).ConfigureAwait(false);
        var seq = rows.Count == 0 ? 0 : rows.Max(r => r.Seq);
        var stored = rows.ToDictionary(l => l.LinkKey, StringComparer.Ordinal);
        var kept = new List<LinkRow>(links.Count);
        foreach (var link in links)
        {
            if (stored.Remove(link.Id.Value, out var row))
            {
                if (!Written(row, link))
                {
                    Write(row, link);
                    row.UpdatedAt = now;
                }
            }
            else
            {
                row = new LinkRow
                {
                    Id = StoreText.NewId(),
                    LabId = labId,
                    LinkKey = link.Id.Value,
                    Seq = ++seq,
                    LinkName = "",
                    SourceNode = "",
                    SourceInterface = "",
                    SourceLinux = "",
                    TargetNode = "",
                    TargetInterface = "",
                    TargetLinux = "",
                    ActualState = StoreText.Status(LinkStatus.Pending),
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                Write(row, link);
                db.Links.Add(row);
            }

            kept.Add(row);
        }

        db.Links.RemoveRange(stored.Values);
        return kept;
    }

    /// <summary>The row holds <paramref name="link"/> as written.</summary>
    private static bool Written(LinkRow row, LabLink link) =>
        StoreText.Same(row.LinkName, link.ToString()) && row.Mtu == link.Mtu
        && StoreText.Same(row.SourceNode, link.A.Node) && StoreText.Same(row.SourceInterface, link.A.Vendor) && StoreText.Same(row.SourceLinux, link.A.Linux)
        && StoreText.Same(row.TargetNode, link.B.Node) && StoreText.Same(row.TargetInterface, link.B.Vendor) && StoreText.Same(row.TargetLinux, link.B.Linux);

    private static void Write(LinkRow row, LabLink link)
    {
        row.LinkName = link.ToString();
        row.Mtu = link.Mtu;
        (row.SourceNode, row.SourceInterface, row.SourceLinux) = (link.A.Node, link.A.Vendor, link.A.Linux);
        (row.TargetNode, row.TargetInterface, row.TargetLinux) = (link.B.Node, link.B.Vendor, link.B.Linux);
    }


    private static StoredLab ToStoredLab(LabRow row) => new(row.Name, StoreText.ParseFabric(row.Fabric), row.Definition, row.SourcePath, row.CreatedAt);
}
