using Aether.Labs.Store.Data;
using Microsoft.EntityFrameworkCore;

namespace Aether.Labs.Store;

public sealed partial class LabStore
{
    /// <inheritdoc/>
    /// <remarks>Empty when the lab is not stored.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<LinkState>> GetLinksAsync(string lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return RunAsync<IReadOnlyList<LinkState>>($"read the links of lab '{lab}'", async db =>
        {
            var rows = await (from l in db.Links.AsNoTracking()
                              join b in db.Labs on l.LabId equals b.Id
                              where b.Name == lab
                              select l).ToListAsync(cancellationToken).ConfigureAwait(false);
            return InOrder(rows);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Writes each link's status, error, VLAN and check time (its endpoints and MTU come from
    /// <see cref="SaveLabAsync"/>); a row changes only when one of them does. A state whose link is not stored (the lab
    /// changed meanwhile, or is gone) is skipped.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SetLinkStatesAsync(string lab, IReadOnlyList<LinkState> states, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(states);
        return RunAsync($"write link states of lab '{lab}'", async db =>
        {
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The queries deploy's save compiled already (a cold process pays for each new shape once).
                var labRow = await FindLabAsync(db, lab, cancellationToken).ConfigureAwait(false);
                var rows = (labRow is null ? [] : await LinksOfAsync(db, labRow.Id, cancellationToken).ConfigureAwait(false))
                    .ToDictionary(r => r.LinkKey, StringComparer.Ordinal);
                WriteStates(rows, states, StoreText.Now());
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Empty when the lab is not stored.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<InterfaceMapping>> GetMappingsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return RunAsync<IReadOnlyList<InterfaceMapping>>($"read the interface mappings of lab '{lab}'", async db =>
        {
            var rows = await (from m in db.Mappings.AsNoTracking()
                              join n in db.Nodes on m.NodeId equals n.Id
                              join b in db.Labs on m.LabId equals b.Id
                              where b.Name == lab
                              select new { Node = n.Name, Mapping = m }).ToListAsync(cancellationToken).ConfigureAwait(false);
            return
            [
                .. rows.OrderBy(r => r.Node, StringComparer.Ordinal).ThenBy(r => r.Mapping.LinuxInterface, StringComparer.Ordinal)
                    .Select(r => new InterfaceMapping(r.Node, r.Mapping.LinuxInterface, r.Mapping.VendorInterface ?? "", r.Mapping.DeviceType ?? "")
                    {
                        OvsPort = r.Mapping.OvsPort,
                        OvsBridge = r.Mapping.OvsBridge,
                        VlanTag = r.Mapping.VlanTag,
                    }),
            ];
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>A mapping already stored for (node, Linux name) is updated in place (its <c>created_at</c> kept) and
    /// written only when it changed; the others are inserted; the lab's mappings not in the list are deleted.</remarks>
    /// <exception cref="ArgumentException">Two mappings of one node and Linux name, or a node the lab does not
    /// have.</exception>
    /// <exception cref="InvalidOperationException">The lab is not stored.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SetMappingsAsync(string lab, IReadOnlyList<InterfaceMapping> mappings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(mappings);
        StoreText.CheckUnique(lab, "interface mapping", mappings.Select(m => m.Node + ":" + m.Linux));
        return RunAsync($"write the interface mappings of lab '{lab}'", async db =>
        {
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var labId = await db.Labs.Where(l => l.Name == lab).Select(l => l.Id).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"lab '{lab}' is not stored: save it before its interface mappings");
                var nodes = await db.Nodes.Where(n => n.LabId == labId).ToDictionaryAsync(n => n.Name, n => n.Id, StringComparer.Ordinal, cancellationToken).ConfigureAwait(false);
                var stored = (await db.Mappings.Where(m => m.LabId == labId).ToListAsync(cancellationToken).ConfigureAwait(false))
                    .ToDictionary(m => (m.NodeId, m.LinuxInterface));
                WriteMappings(db, lab, labId, nodes, stored, mappings, StoreText.Now());
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }, cancellationToken);
    }

    /// <summary>Writes each state into its link's row (matched by identity; a state with no row is skipped); a row
    /// changes only when its status, error, VLAN or check time does.</summary>
    private static void WriteStates(Dictionary<string, LinkRow> rows, IReadOnlyList<LinkState> states, DateTimeOffset now)
    {
        foreach (var state in states)
        {
            ArgumentNullException.ThrowIfNull(state, nameof(states));
            if (!rows.TryGetValue(state.Id.Value, out var row))
            {
                continue;
            }

            var status = StoreText.Status(state.Status);
            var checkedAt = state.Checked is { } c ? StoreText.Microseconds(c) : (DateTimeOffset?)null;
            if (!StoreText.Same(row.ActualState, status) || !StoreText.Same(row.ErrorMessage, state.Error) || row.VlanTag != state.Vlan || row.CheckedAt != checkedAt)
            {
                (row.ActualState, row.ErrorMessage, row.VlanTag, row.CheckedAt, row.UpdatedAt) = (status, state.Error, state.Vlan, checkedAt, now);
            }
        }
    }

    /// <summary>Makes the lab's mapping rows those of <paramref name="mappings"/>: <paramref name="stored"/> (the rows
    /// there were, by node id and Linux name) updated in place where they changed, the others added, the rest removed.</summary>
    private static void WriteMappings(LabDbContext db, string lab, string labId, Dictionary<string, string> nodes, Dictionary<(string NodeId, string LinuxInterface), MappingRow> stored, IReadOnlyList<InterfaceMapping> mappings, DateTimeOffset now)
    {
        foreach (var mapping in mappings)
        {
            var nodeId = nodes.GetValueOrDefault(mapping.Node)
                ?? throw new ArgumentException($"lab '{lab}' has no node '{mapping.Node}' (interface mapping {mapping.Node}:{mapping.Linux})", nameof(mappings));
            if (!stored.Remove((nodeId, mapping.Linux), out var row))
            {
                row = new MappingRow { Id = StoreText.NewId(), LabId = labId, NodeId = nodeId, LinuxInterface = mapping.Linux, CreatedAt = now, UpdatedAt = now };
                db.Mappings.Add(row);
            }

            if (!StoreText.Same(row.VendorInterface, mapping.Vendor) || !StoreText.Same(row.DeviceType, mapping.DeviceType) || !StoreText.Same(row.OvsPort, mapping.OvsPort)
                || !StoreText.Same(row.OvsBridge, mapping.OvsBridge) || row.VlanTag != mapping.VlanTag)
            {
                (row.VendorInterface, row.DeviceType, row.OvsPort, row.OvsBridge, row.VlanTag, row.UpdatedAt) =
                    (mapping.Vendor, mapping.DeviceType, mapping.OvsPort, mapping.OvsBridge, mapping.VlanTag, now);
            }
        }

        db.Mappings.RemoveRange(stored.Values);
    }

    /// <summary>The links' states, in the order they were first stored.</summary>
    private static List<LinkState> InOrder(IEnumerable<LinkRow> rows) =>
        [.. rows.OrderBy(r => r.Seq).ThenBy(r => r.Id, StringComparer.Ordinal).Select(ToLinkState)];

    private static LinkState ToLinkState(LinkRow row) =>
        new(LinkId.Parse(row.LinkKey), new LabEndpoint(row.SourceNode, row.SourceLinux, row.SourceInterface), new LabEndpoint(row.TargetNode, row.TargetLinux, row.TargetInterface), StoreText.ParseStatus(row.ActualState))
        {
            Error = row.ErrorMessage,
            Vlan = row.VlanTag,
            Mtu = row.Mtu,
            Checked = row.CheckedAt,
            Created = row.CreatedAt,
        };
}
