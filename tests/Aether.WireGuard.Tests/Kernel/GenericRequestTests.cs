using Aether.Netlink;
using Aether.Netlink.Generic;
using Aether.Netlink.Protocol;

namespace Aether.WireGuard.Tests.Kernel;

/// <summary>
/// The generic netlink request methods the kernel backend is built on (<see cref="GenericNetlinkHandle.DumpAsync"/>,
/// <see cref="GenericNetlinkHandle.ExecuteAsync"/>), against the real kernel: with no WireGuard family here, they are
/// exercised on the controller family, which every kernel has.
/// </summary>
public sealed class GenericRequestTests : SandboxTest
{
    private static readonly WriteRequest<ushort> DumpFamilies = static (ref NetlinkWriter w, ushort flags, uint seq, uint pid) =>
    {
        var msg = w.BeginMessage(GenericFamily.ControllerId, flags, seq, pid);
        w.WriteStruct(new GenlMsgHdr { Command = 3 /* CTRL_CMD_GETFAMILY */, Version = 1 });
        w.EndMessage(msg);
    };

    private static readonly MessageParser<GenericFamily> Parse = GenericFamily.TryParse;

    private static readonly WriteRequest<string> GetFamily = static (ref NetlinkWriter w, string name, uint seq, uint pid) =>
    {
        var msg = w.BeginMessage(GenericFamily.ControllerId, NlmsgFlags.Request | NlmsgFlags.Ack, seq, pid);
        w.WriteStruct(new GenlMsgHdr { Command = 3, Version = 1 });
        w.WriteString(2 /* CTRL_ATTR_FAMILY_NAME */, name);
        w.EndMessage(msg);
    };

    [Fact]
    public async Task A_dump_collects_every_reply_until_done()
    {
        using var ns = Box.CreateNamespace("g");
        using var genl = GenericNetlinkHandle.Open(ns);
        var families = await genl.DumpAsync((ushort)(NlmsgFlags.Request | NlmsgFlags.Dump), DumpFamilies, Parse, "list generic netlink families", null);
        Assert.Contains(families, f => f.Name == "nlctrl" && f.Id == GenericFamily.ControllerId);
        Assert.Equal(families.Count, families.Select(f => f.Id).Distinct().Count());
        Assert.Equal(Directory.Exists("/sys/module/wireguard"), families.Any(f => f.Name == "wireguard"));
    }

    [Fact]
    public async Task An_acknowledged_request_returns_on_the_ack_and_a_refusal_carries_errno_and_target()
    {
        using var genl = GenericNetlinkHandle.Open();
        await genl.ExecuteAsync("nlctrl", GetFamily, "get generic netlink family", "nlctrl");

        var ex = await Assert.ThrowsAsync<NetlinkException>(() => genl.ExecuteAsync("aetnosuchfam", GetFamily, "get generic netlink family", "aetnosuchfam"));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.StartsWith("get generic netlink family aetnosuchfam: ENOENT (No such file or directory)", ex.Message, StringComparison.Ordinal);

        var dumpError = await Assert.ThrowsAsync<NetlinkException>(() => genl.DumpAsync((ushort)(NlmsgFlags.Request | NlmsgFlags.Dump), static (ref NetlinkWriter w, ushort flags, uint seq, uint pid) =>
        {
            var msg = w.BeginMessage(0xFFF0, flags, seq, pid); // no family has this id
            w.WriteStruct(new GenlMsgHdr { Command = 0, Version = 1 });
            w.EndMessage(msg);
        }, Parse, "dump of a missing family", "0xfff0"));
        Assert.Equal("dump of a missing family", dumpError.Operation);
    }
}
