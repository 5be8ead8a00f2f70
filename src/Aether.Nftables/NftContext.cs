using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;
using Aether.Nftables.Interop;

namespace Aether.Nftables;

/// <summary>
/// nftables in one network namespace through libnftables: runs nft commands (JSON or nft syntax) there, and reads,
/// replaces and deletes whole tables, each as one kernel transaction.
/// <para>
/// Why libnftables and not nf_tables netlink written here like rtnetlink: a rule is a program of expressions
/// (payload loads, comparisons, lookups, NAT statements) whose netlink encoding is large, depends on the family,
/// and changes with kernel and nftables versions; nft's own parser, evaluator and JSON schema live in libnftables
/// (Debian <c>libnftables1</c>). Using the library <c>nft</c> uses means a rule given here means exactly what it
/// means to <c>nft</c>, and reads back exactly as <c>nft -j list ruleset</c> prints it.
/// </para>
/// <para>
/// Namespaces: <c>nft_ctx_new</c> opens the libnftables context's nf_tables netlink socket at creation, so a context
/// created on a dedicated thread inside the target namespace stays bound there. That is not enough on its own:
/// libnftables resolves interface names (<c>meta oif "eth0"</c>) through a short-lived rtnetlink socket it opens on
/// the calling thread, which would look in the caller's namespace. So every command runs on a dedicated thread
/// inside the target (see <see cref="NetworkNamespace.RunInside{TState, TResult}"/>), and its libnftables context is
/// made there for that command and freed after it: libnftables waits for acknowledgements with <c>select()</c>, which
/// aborts the process when the socket's descriptor is 1024 or above, and a short-lived context can always be given a
/// low one (see <see cref="LowDescriptors"/>) however many namespaces the process holds. No thread-pool thread ever changes
/// namespace. libnftables keeps process-wide state (that interface cache, one-time initialisation), so commands of
/// all instances are serialised. An instance is safe to use from any thread.
/// </para>
/// </summary>
public sealed class NftContext : IDisposable
{
    // Held around every use of libnftables: its interface cache is a global list that two commands running at once
    // would share and free; and the descriptors set aside for its sockets (LowDescriptors) are handed out under it.
    private static readonly Lock LibraryLock = new();

    private readonly NetworkNamespace _where;
    private readonly bool _processNamespace;
    private const int NftablesSubsystem = 10; // NFNL_SUBSYS_NFTABLES
    private const int GetGeneration = 16; // NFT_MSG_GETGEN
    private readonly Lock _generationLock = new();
    private NetlinkSocket? _generationSocket;
    private bool _closed;

    private NftContext(NetworkNamespace where, bool processNamespace)
    {
        _where = where;
        _processNamespace = processNamespace;
    }

    /// <summary>The namespace the context is bound to (its own duplicate), or null for the process's namespace.</summary>
    public NetworkNamespace? Namespace => _processNamespace ? null : _where;

    /// <summary>Whether libnftables can be loaded, and if not, why (to say so clearly before anything is tried).</summary>
    public static bool IsAvailable(out string? why)
    {
        if (NativeLibrary.TryLoad(Libnftables.Lib, typeof(NftContext).Assembly, null, out var lib))
        {
            NativeLibrary.Free(lib);
            why = null;
            return true;
        }

        why = $"{Libnftables.Lib} is not installed (Debian package libnftables1, which nftables depends on)";
        return false;
    }

    /// <summary>Opens a context in the process's own network namespace.</summary>
    /// <exception cref="NftablesException">libnftables is missing or the context cannot be made.</exception>
    public static NftContext Open()
    {
        var own = NetworkNamespace.OpenCurrent();
        try
        {
            Probe(own);
            return new NftContext(own, processNamespace: true);
        }
        catch
        {
            own.Dispose();
            throw;
        }
    }

    /// <summary>Opens a context bound to <paramref name="target"/>. The context keeps its own duplicate of the
    /// namespace.</summary>
    /// <exception cref="NftablesException">libnftables is missing or the context cannot be made.</exception>
    /// <exception cref="NetlinkException">No netfilter netlink socket can be opened in the namespace.</exception>
    public static NftContext OpenAt(NetworkNamespace target)
    {
        ArgumentNullException.ThrowIfNull(target);
        ObjectDisposedException.ThrowIf(target.IsClosed, target);
        var where = target.Duplicate();
        try
        {
            Probe(where);
            return new NftContext(where, processNamespace: false);
        }
        catch
        {
            where.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="commands"/> (libnftables JSON, <c>{"nftables":[...]}</c>, or nft syntax) as one
    /// transaction and returns what libnftables printed (JSON for list commands).
    /// </summary>
    /// <exception cref="NftablesException">The library refused the commands or the kernel rejected them: nothing
    /// was changed.</exception>
    public string Run(string commands) => Execute(commands, stateless: false, dryRun: false, "run", Describe(null));

    /// <summary>Runs <paramref name="commands"/> as one transaction, as <see cref="Run"/>, and returns them as the
    /// kernel made them (<c>nft --echo --json</c>): each added rule, set and chain with its handle.</summary>
    /// <exception cref="NftablesException">The library refused the commands or the kernel rejected them: nothing
    /// was changed.</exception>
    public string RunEcho(string commands) => Execute(commands, stateless: false, dryRun: false, "run", Describe(null), echo: true);

    /// <summary>Runs <paramref name="batch"/> as one transaction and returns the handles the kernel gave its added
    /// rules, in the order they were added.</summary>
    /// <exception cref="NftablesException">Refused or rejected (a rule's handle gone: ENOENT): nothing was changed.</exception>
    /// <exception cref="FormatException">libnftables did not print back a handle for each added rule.</exception>
    public IReadOnlyList<ulong> RunBatch(NftBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return [];
        }

        var output = Execute(batch.ToJson(), stateless: false, dryRun: false, "change table", Describe(batch.Family.ToNftName() + " " + batch.Table), echo: batch.AddedRules.Count > 0);
        var handles = new List<ulong>();
        if (output.Length > 0 && JsonNode.Parse(output) is JsonObject { } root && root["nftables"] is JsonArray items)
        {
            foreach (var item in items)
            {
                if (item?["add"]?["rule"] is JsonObject rule && rule["handle"] is JsonValue h && h.TryGetValue<ulong>(out var handle))
                {
                    handles.Add(handle);
                }
            }
        }

        return handles.Count == batch.AddedRules.Count
            ? handles
            : throw new FormatException($"libnftables printed {handles.Count} rule handles for {batch.AddedRules.Count} added rules: {(output.Length > 300 ? output[..300] + "…" : output)}");
    }

    /// <summary>The namespace's nf_tables ruleset generation (<c>NFT_MSG_GETGEN</c>): the kernel adds one at every
    /// committed transaction, of any table. Equal generations mean an unchanged ruleset; one netlink request, no
    /// libnftables.</summary>
    /// <exception cref="NetlinkException">The request failed.</exception>
    public uint Generation()
    {
        lock (_generationLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _generationSocket ??= NetlinkSocket.Open(NetlinkProtocol.Netfilter, _where);
            Span<byte> request = stackalloc byte[20];
            var sequence = _generationSocket.NextSequence();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(request, 20);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(request[4..], (NftablesSubsystem << 8) | GetGeneration);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(request[6..], 1); // NLM_F_REQUEST
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
            return _generationSocket.Request(request, sequence, static (in NetlinkMessage m, out uint id) =>
            {
                id = 0;
                foreach (var a in m.Attributes(4))
                {
                    if (a.Type == 1) // NFTA_GEN_ID, big-endian
                    {
                        id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(a.Payload);
                        return true;
                    }
                }

                return false;
            }, "get nf_tables generation", Describe(null));
        }
    }

    /// <summary>Checks <paramref name="commands"/> without changing anything (<c>nft --check</c>): libnftables parses
    /// and evaluates them, and the kernel checks each message of the transaction and then discards it. What the kernel
    /// checks only when a transaction commits is not checked (whether a statement suits its chain's hook: masquerade
    /// outside a NAT chain passes here and fails when applied).</summary>
    /// <exception cref="NftablesException">Applying them would fail.</exception>
    public void Check(string commands) => Execute(commands, stateless: false, dryRun: true, "check", Describe(null));

    /// <summary>Reads the table <paramref name="family"/> <paramref name="name"/> with everything in it (counters
    /// without their values), or null when there is no such table.</summary>
    /// <exception cref="NftablesException">The listing failed for another reason.</exception>
    public NftTable? GetTable(NftFamily family, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var list = Document(new JsonObject { ["list"] = new JsonObject { ["table"] = new JsonObject { ["family"] = family.ToNftName(), ["name"] = name } } });
        string output;
        try
        {
            output = Execute(list, stateless: true, dryRun: false, "list table", Describe(family.ToNftName() + " " + name));
        }
        catch (NftablesException ex) when (ex.Errno == Errno.ENOENT)
        {
            return null;
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(output);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new FormatException($"libnftables printed invalid JSON listing table {family.ToNftName()} {name} ({ex.Message}): {(output.Length > 300 ? output[..300] + "…" : output)}", ex);
        }

        var items = (parsed as JsonObject)?["nftables"] as JsonArray ?? throw new FormatException("libnftables printed no \"nftables\" array: " + output);
        return NftTable.FromItems(items, (family, name));
    }

    /// <summary>The tables in the namespace, in the order the kernel lists them.</summary>
    /// <exception cref="NftablesException">The listing failed.</exception>
    public IReadOnlyList<(NftFamily Family, string Name)> ListTables()
    {
        var output = Execute(Document(new JsonObject { ["list"] = new JsonObject { ["tables"] = null } }), stateless: true, dryRun: false, "list tables", Describe(null));
        var tables = new List<(NftFamily, string)>();
        foreach (var item in (JsonNode.Parse(output) as JsonObject)?["nftables"] as JsonArray ?? [])
        {
            if (item is JsonObject { } obj && obj["table"] is JsonObject table
                && NftFamilies.TryParse(NftJson.String(table, "family"), out var family) && NftJson.String(table, "name") is { } name)
            {
                tables.Add((family, name));
            }
        }

        return tables;
    }

    /// <summary>Makes the kernel's table exactly <paramref name="table"/> in one transaction: created when missing,
    /// and when present deleted and re-created with everything in it, so that no packet ever sees half of it.</summary>
    /// <exception cref="NftablesException">Refused or rejected: the table is as it was.</exception>
    public void ReplaceTable(NftTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Execute(NftJson.Text(new JsonObject { ["nftables"] = table.ReplaceCommands() }), stateless: false, dryRun: false, "replace table", Describe(table.QualifiedName));
    }

    /// <summary>Checks what <see cref="ReplaceTable"/> would send, changing nothing (see <see cref="Check"/> for what
    /// is and is not checked).</summary>
    /// <exception cref="NftablesException">It would fail, and why.</exception>
    public void CheckReplaceTable(NftTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Execute(NftJson.Text(new JsonObject { ["nftables"] = table.ReplaceCommands() }), stateless: false, dryRun: true, "check table", Describe(table.QualifiedName));
    }

    /// <summary>Deletes the table <paramref name="family"/> <paramref name="name"/> and everything in it; nothing
    /// happens when it does not exist.</summary>
    /// <exception cref="NftablesException">The kernel refused.</exception>
    public void DeleteTable(NftFamily family, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Execute(NftJson.Text(new JsonObject { ["nftables"] = NftTable.DeleteCommands(family, name) }), stateless: false, dryRun: false, "delete table", Describe(family.ToNftName() + " " + name));
    }

    /// <summary>Closes the namespace handle; commands are refused afterwards.</summary>
    public void Dispose()
    {
        lock (LibraryLock)
        {
            _closed = true;
        }

        lock (_generationLock)
        {
            _generationSocket?.Dispose();
            _generationSocket = null;
        }

        _where.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => "nftables context in " + (Namespace?.ToString() ?? "the process namespace");

    private static string Document(JsonObject command) => NftJson.Text(new JsonObject { ["nftables"] = new JsonArray(command) });

    /// <summary>Checks that libnftables loads and that a netfilter netlink socket opens in <paramref name="where"/>
    /// (libnftables exits the process when it cannot open its socket: this makes that an exception, up front).</summary>
    private static void Probe(NetworkNamespace where)
    {
        if (!IsAvailable(out var why))
        {
            throw new NftablesException("open nftables context", "in " + where, why!, null);
        }

        NetlinkSocket.Open(NetlinkProtocol.Netfilter, where).Dispose();
    }

    private string Execute(string commands, bool stateless, bool dryRun, string operation, string target, bool echo = false)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (commands.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("nft commands must not contain NUL", nameof(commands));
        }

        lock (LibraryLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var (rc, errno, output, error) = _where.RunInside(
                static s =>
                {
                    var context = LowDescriptors.NewContext();
                    var ctx = context.Handle;
                    try
                    {
                        if (Libnftables.nft_ctx_buffer_output(ctx) != 0 || Libnftables.nft_ctx_buffer_error(ctx) != 0)
                        {
                            throw new NftablesException("open nftables context", null, "could not buffer its output", null);
                        }

                        Libnftables.nft_ctx_output_set_flags(ctx, Libnftables.NFT_CTX_OUTPUT_JSON | (s.Stateless ? Libnftables.NFT_CTX_OUTPUT_STATELESS : 0) | (s.Echo ? Libnftables.NFT_CTX_OUTPUT_ECHO : 0));
                        Libnftables.nft_ctx_set_dry_run(ctx, s.DryRun);
                        Marshal.SetLastPInvokeError(0);
                        var rc = Libnftables.nft_run_cmd_from_buffer(ctx, s.Commands);
                        var errno = Marshal.GetLastPInvokeError();
                        var output = Marshal.PtrToStringUTF8(Libnftables.nft_ctx_get_output_buffer(ctx)) ?? string.Empty;
                        var error = Marshal.PtrToStringUTF8(Libnftables.nft_ctx_get_error_buffer(ctx)) ?? string.Empty;
                        return (rc, errno, output, error);
                    }
                    finally
                    {
                        LowDescriptors.Release(context);
                    }
                },
                (Commands: commands, Stateless: stateless, DryRun: dryRun, Echo: echo));
            if (rc != 0)
            {
                var text = string.IsNullOrWhiteSpace(error) ? "libnftables failed without a message" : error;
                throw new NftablesException(operation, target, text, NftablesException.ErrnoOf(text, errno));
            }

            return output;
        }
    }

    private string Describe(string? what)
    {
        var where = Namespace?.ToString() ?? "the process namespace";
        return what is null ? "in " + where : what + " in " + where;
    }
}
