using Microsoft.Data.Sqlite;

namespace Aether.Labs.Store;

public sealed partial class SqliteLabStore
{
    private const string LinkColumns = "id, link_key, seq, link_name, mtu, source_node, source_interface, source_linux, target_node, target_interface, target_linux, actual_state, error_message, vlan_tag, checked_at, created_at";

    /// <inheritdoc/>
    /// <remarks>Empty when the lab is not stored.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<LinkState>> GetLinksAsync(string lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return RunAsync<IReadOnlyList<LinkState>>($"read the links of lab '{lab}'", write: false, (connection, _) =>
            InOrder(ReadLinks(connection, null, "lab_id = (SELECT id FROM labs WHERE name = $lab)", lab)), cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Writes each link's status, error, VLAN and check time; a row changes only when one of them does; a
    /// state whose link is not stored is skipped.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SetLinkStatesAsync(string lab, IReadOnlyList<LinkState> states, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(states);
        return RunAsync($"write link states of lab '{lab}'", write: true, (connection, transaction) =>
        {
            var rows = ReadLinks(connection, transaction, "lab_id = (SELECT id FROM labs WHERE name = $lab)", lab).ToDictionary(r => r.Key, StringComparer.Ordinal);
            WriteStates(connection, transaction, rows, states, StoreText.Now());
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Empty when the lab is not stored.</remarks>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task<IReadOnlyList<InterfaceMapping>> GetMappingsAsync(string lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return RunAsync<IReadOnlyList<InterfaceMapping>>($"read the interface mappings of lab '{lab}'", write: false, (connection, _) =>
        {
            using var read = Command(connection, null, """
                SELECT n.name, m.linux_interface, m.vendor_interface, m.device_type, m.ovs_port, m.ovs_bridge, m.vlan_tag
                FROM interface_mappings m JOIN nodes n ON n.id = m.node_id JOIN labs b ON b.id = m.lab_id
                WHERE b.name = $lab
                """);
            read.Parameters.AddWithValue("$lab", lab);
            using var reader = read.ExecuteReader();
            List<InterfaceMapping> mappings = [];
            while (reader.Read())
            {
                mappings.Add(new InterfaceMapping(reader.GetString(0), reader.GetString(1), Text(reader, 2) ?? "", Text(reader, 3) ?? "")
                {
                    OvsPort = Text(reader, 4),
                    OvsBridge = Text(reader, 5),
                    VlanTag = reader.IsDBNull(6) ? null : reader.GetInt32(6),
                });
            }

            return [.. mappings.OrderBy(m => m.Node, StringComparer.Ordinal).ThenBy(m => m.Linux, StringComparer.Ordinal)];
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>A mapping stored for (node, Linux name) is updated in place (its <c>created_at</c> kept) and only when it
    /// changed; the others are inserted; the lab's mappings not in the list are deleted.</remarks>
    /// <exception cref="ArgumentException">Two mappings of one node and Linux name, or a node the lab does not
    /// have.</exception>
    /// <exception cref="InvalidOperationException">The lab is not stored.</exception>
    /// <exception cref="LabStoreException">The database refused.</exception>
    public Task SetMappingsAsync(string lab, IReadOnlyList<InterfaceMapping> mappings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(mappings);
        StoreText.CheckUnique(lab, "interface mapping", mappings.Select(m => m.Node + ":" + m.Linux));
        return RunAsync($"write the interface mappings of lab '{lab}'", write: true, (connection, transaction) =>
        {
            using var find = Command(connection, transaction, "SELECT id FROM labs WHERE name = $lab");
            find.Parameters.AddWithValue("$lab", lab);
            var labId = find.ExecuteScalar() as string ?? throw new InvalidOperationException($"lab '{lab}' is not stored: save it before its interface mappings");
            var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
            using (var read = Command(connection, transaction, "SELECT name, id FROM nodes WHERE lab_id = $lab"))
            {
                read.Parameters.AddWithValue("$lab", labId);
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    nodes[reader.GetString(0)] = reader.GetString(1);
                }
            }

            WriteMappings(connection, transaction, lab, labId, nodes, mappings, StoreText.Now());
            return true;
        }, cancellationToken);
    }

    /// <summary>The lab's link rows, after the update to <paramref name="links"/>.</summary>
    private static List<LinkRecord> SaveLinks(SqliteConnection connection, SqliteTransaction? transaction, string labId, IReadOnlyList<LabLink> links, DateTimeOffset now)
    {
        var rows = ReadLinks(connection, transaction, "lab_id = $lab", labId);
        var seq = rows.Count == 0 ? 0 : rows.Max(r => r.Seq);
        var stored = rows.ToDictionary(r => r.Key, StringComparer.Ordinal);
        var kept = new List<LinkRecord>(links.Count);
        using var insert = Command(connection, transaction, """
            INSERT INTO link_states (id, lab_id, link_key, seq, link_name, mtu, source_node, source_interface, source_linux, target_node, target_interface, target_linux, actual_state, created_at, updated_at)
            VALUES ($id, $lab, $key, $seq, $name, $mtu, $sn, $si, $sl, $tn, $ti, $tl, $state, $now, $now)
            """);
        using var update = Command(connection, transaction, """
            UPDATE link_states SET link_name = $name, mtu = $mtu, source_node = $sn, source_interface = $si, source_linux = $sl,
                target_node = $tn, target_interface = $ti, target_linux = $tl, updated_at = $now WHERE id = $id
            """);
        foreach (var link in links)
        {
            if (stored.Remove(link.Id.Value, out var row))
            {
                if (!row.Holds(link))
                {
                    row.Write(link);
                    Run(update, [("$id", row.Id), .. Endpoints(row), ("$now", now)]);
                }
            }
            else
            {
                row = new LinkRecord(StoreText.NewId(), link.Id.Value, ++seq) { Status = LinkStatus.Pending, Created = now };
                row.Write(link);
                Run(insert, [("$id", row.Id), ("$lab", labId), ("$key", row.Key), ("$seq", row.Seq), .. Endpoints(row), ("$state", StoreText.Status(LinkStatus.Pending)), ("$now", now)]);
            }

            kept.Add(row);
        }

        DeleteByIds(connection, transaction, "link_states", stored.Values.Select(r => r.Id));
        return kept;
    }

    private static (string, object?)[] Endpoints(LinkRecord row) =>
        [("$name", row.Name), ("$mtu", row.Mtu), ("$sn", row.A.Node), ("$si", row.A.Vendor), ("$sl", row.A.Linux), ("$tn", row.B.Node), ("$ti", row.B.Vendor), ("$tl", row.B.Linux)];

    /// <summary>The link rows that <paramref name="where"/> (with <c>$lab</c> bound to <paramref name="lab"/>)
    /// selects.</summary>
    private static List<LinkRecord> ReadLinks(SqliteConnection connection, SqliteTransaction? transaction, string where, string lab)
    {
        using var read = Command(connection, transaction, $"SELECT {LinkColumns} FROM link_states WHERE {where}");
        read.Parameters.AddWithValue("$lab", lab);
        using var reader = read.ExecuteReader();
        List<LinkRecord> rows = [];
        while (reader.Read())
        {
            rows.Add(new LinkRecord(reader.GetString(0), reader.GetString(1), reader.GetInt32(2))
            {
                Name = reader.GetString(3),
                Mtu = reader.IsDBNull(4) ? null : reader.GetInt32(4),
                A = new LabEndpoint(reader.GetString(5), reader.GetString(7), reader.GetString(6)),
                B = new LabEndpoint(reader.GetString(8), reader.GetString(10), reader.GetString(9)),
                Status = StoreText.ParseStatus(reader.GetString(11)),
                Error = Text(reader, 12),
                Vlan = reader.IsDBNull(13) ? null : reader.GetInt32(13),
                Checked = reader.IsDBNull(14) ? null : reader.GetDateTimeOffset(14),
                Created = reader.GetDateTimeOffset(15),
            });
        }

        return rows;
    }

    /// <summary>Writes each state into its link's row (matched by identity; a state with no row is skipped), only where
    /// its status, error, VLAN or check time changed.</summary>
    private static void WriteStates(SqliteConnection connection, SqliteTransaction? transaction, Dictionary<string, LinkRecord> rows, IReadOnlyList<LinkState> states, DateTimeOffset now)
    {
        using var update = Command(connection, transaction, "UPDATE link_states SET actual_state = $state, error_message = $error, vlan_tag = $vlan, checked_at = $checked, updated_at = $now WHERE id = $id");
        foreach (var state in states)
        {
            ArgumentNullException.ThrowIfNull(state, nameof(states));
            if (!rows.TryGetValue(state.Id.Value, out var row))
            {
                continue;
            }

            var checkedAt = state.Checked is { } c ? StoreText.Microseconds(c) : (DateTimeOffset?)null;
            if (row.Status != state.Status || !StoreText.Same(row.Error, state.Error) || row.Vlan != state.Vlan || row.Checked != checkedAt)
            {
                (row.Status, row.Error, row.Vlan, row.Checked) = (state.Status, state.Error, state.Vlan, checkedAt);
                Run(update, ("$id", row.Id), ("$state", StoreText.Status(state.Status)), ("$error", state.Error), ("$vlan", state.Vlan), ("$checked", checkedAt), ("$now", now));
            }
        }
    }

    /// <summary>Makes the lab's mapping rows those of <paramref name="mappings"/>: the stored rows updated in place
    /// where they changed, the others added, the rest removed.</summary>
    private static void WriteMappings(SqliteConnection connection, SqliteTransaction? transaction, string lab, string labId, Dictionary<string, string> nodes, IReadOnlyList<InterfaceMapping> mappings, DateTimeOffset now)
    {
        var stored = new Dictionary<(string NodeId, string Linux), (string Id, string? Vendor, string? DeviceType, string? OvsPort, string? OvsBridge, int? Vlan)>();
        using (var read = Command(connection, transaction, "SELECT id, node_id, linux_interface, vendor_interface, device_type, ovs_port, ovs_bridge, vlan_tag FROM interface_mappings WHERE lab_id = $lab"))
        {
            read.Parameters.AddWithValue("$lab", labId);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                stored[(reader.GetString(1), reader.GetString(2))] = (reader.GetString(0), Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), reader.IsDBNull(7) ? null : reader.GetInt32(7));
            }
        }

        using var insert = Command(connection, transaction, """
            INSERT INTO interface_mappings (id, lab_id, node_id, linux_interface, vendor_interface, device_type, ovs_port, ovs_bridge, vlan_tag, created_at, updated_at)
            VALUES ($id, $lab, $node, $linux, $vendor, $type, $port, $bridge, $vlan, $now, $now)
            """);
        using var update = Command(connection, transaction, "UPDATE interface_mappings SET vendor_interface = $vendor, device_type = $type, ovs_port = $port, ovs_bridge = $bridge, vlan_tag = $vlan, updated_at = $now WHERE id = $id");
        foreach (var mapping in mappings)
        {
            var nodeId = nodes.GetValueOrDefault(mapping.Node)
                ?? throw new ArgumentException($"lab '{lab}' has no node '{mapping.Node}' (interface mapping {mapping.Node}:{mapping.Linux})", nameof(mappings));
            (string, object?)[] values = [("$vendor", mapping.Vendor), ("$type", mapping.DeviceType), ("$port", mapping.OvsPort), ("$bridge", mapping.OvsBridge), ("$vlan", mapping.VlanTag), ("$now", now)];
            if (!stored.Remove((nodeId, mapping.Linux), out var row))
            {
                Run(insert, [("$id", StoreText.NewId()), ("$lab", labId), ("$node", nodeId), ("$linux", mapping.Linux), .. values]);
            }
            else if (!StoreText.Same(row.Vendor, mapping.Vendor) || !StoreText.Same(row.DeviceType, mapping.DeviceType) || !StoreText.Same(row.OvsPort, mapping.OvsPort)
                || !StoreText.Same(row.OvsBridge, mapping.OvsBridge) || row.Vlan != mapping.VlanTag)
            {
                Run(update, [("$id", row.Id), .. values]);
            }
        }

        DeleteByIds(connection, transaction, "interface_mappings", stored.Values.Select(v => v.Id));
    }

    /// <summary>The links' states, in the order they were first stored.</summary>
    private static List<LinkState> InOrder(IEnumerable<LinkRecord> rows) =>
        [.. rows.OrderBy(r => r.Seq).ThenBy(r => r.Id, StringComparer.Ordinal).Select(r => r.ToState())];

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>One <c>link_states</c> row as read or written in this transaction.</summary>
    private sealed class LinkRecord(string id, string key, int seq)
    {
        public string Id { get; } = id;

        public string Key { get; } = key;

        public int Seq { get; } = seq;

        public string Name { get; set; } = "";

        public int? Mtu { get; set; }

        public LabEndpoint A { get; set; } = new("", "", "");

        public LabEndpoint B { get; set; } = new("", "", "");

        public LinkStatus Status { get; set; }

        public string? Error { get; set; }

        public int? Vlan { get; set; }

        public DateTimeOffset? Checked { get; set; }

        public DateTimeOffset Created { get; init; }

        /// <summary>The row holds <paramref name="link"/> as written.</summary>
        public bool Holds(LabLink link) => StoreText.Same(Name, link.ToString()) && Mtu == link.Mtu && A == link.A && B == link.B;

        public void Write(LabLink link) => (Name, Mtu, A, B) = (link.ToString(), link.Mtu, link.A, link.B);

        public LinkState ToState() => new(LinkId.Parse(Key), A, B, Status) { Error = Error, Vlan = Vlan, Mtu = Mtu, Checked = Checked, Created = Created };
    }
}
