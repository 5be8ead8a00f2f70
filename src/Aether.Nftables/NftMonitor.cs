using Aether.Netlink;
using Aether.Netlink.Monitoring;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Protocol;

namespace Aether.Nftables;

/// <summary>One nf_tables change the kernel announced: which message, in which family and table. Only the header
/// and the table name are read; the change itself is not decoded (a hint says "look again").</summary>
/// <param name="Message">The <c>NFT_MSG_*</c> type (<c>NFT_MSG_NEWRULE</c> is 6, <c>NFT_MSG_DELRULE</c> 8,
/// <c>NFT_MSG_NEWGEN</c> 15 ends every transaction); 0 for an overrun.</param>
/// <param name="Family">The table's family, or null when the message has none (a new generation).</param>
/// <param name="Table">The table's name (<c>NFTA_*_TABLE</c>), or null when the message names none.</param>
public sealed record NftEvent(ushort Message, NftFamily? Family, string? Table)
{
    /// <summary>The kernel dropped announcements (<c>ENOBUFS</c>): anything may have changed.</summary>
    public bool Overrun { get; init; }
}

/// <summary>
/// Watches a namespace's nf_tables announcements (the netfilter netlink group <c>NFNLGRP_NFTABLES</c>) on a socket of
/// our own, read by a dedicated thread that never changes namespace (<see cref="NetlinkMulticast"/>). For hints only:
/// nothing is decoded beyond the family and table name, and what changed is read again through
/// <see cref="NftContext"/>.
/// </summary>
public static class NftMonitor
{
    /// <summary><c>NFNLGRP_NFTABLES</c>.</summary>
    private const uint NftablesGroup = 7;

    /// <summary><c>NFNL_SUBSYS_NFTABLES</c>, the high byte of every nf_tables message type.</summary>
    private const int NftablesSubsystem = 10;

    /// <summary><c>NFT_MSG_NEWGEN</c>: carries no table.</summary>
    private const ushort NewGeneration = 15;

    /// <summary>The size of <c>struct nfgenmsg</c>.</summary>
    private const int NfGenMsgSize = 4;

    /// <summary>Announcements in <paramref name="target"/> (the process's namespace when null) until
    /// <paramref name="cancellationToken"/> fires. An overrun yields an event with <see cref="NftEvent.Overrun"/> and
    /// the stream goes on.</summary>
    /// <exception cref="NetlinkException">The socket cannot be opened or subscribed.</exception>
    public static IAsyncEnumerable<NftEvent> WatchAsync(NetworkNamespace? target, CancellationToken cancellationToken = default) =>
        NetlinkMulticast.WatchAsync(NetlinkProtocol.Netfilter, NftablesGroup, target, ToEvent, new NftEvent(0, null, null) { Overrun = true }, cancellationToken);

    /// <summary>Reads one announcement: null for anything that is not an nf_tables message.</summary>
    internal static NftEvent? ToEvent(in NetlinkMessage message)
    {
        if (message.Header.Type >> 8 != NftablesSubsystem || message.Payload.Length < NfGenMsgSize)
        {
            return null;
        }

        var type = (ushort)(message.Header.Type & 0xFF);
        NftFamily? family = NftFamilies.TryFromNfProto(message.Payload[0], out var f) ? f : null;
        string? table = null;
        if (type != NewGeneration)
        {
            foreach (var attribute in message.Attributes(NfGenMsgSize))
            {
                if (attribute.Type == 1) // NFTA_TABLE_NAME, and NFTA_{CHAIN,RULE,SET,SET_ELEM_LIST,OBJ,FLOWTABLE}_TABLE
                {
                    table = attribute.GetString();
                    break;
                }
            }
        }

        return new NftEvent(type, family, table);
    }
}
