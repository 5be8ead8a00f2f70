using System.Net;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;
using Aether.Netlink.Tests.Codec;
using Aether.Netlink.Tests.Fixtures;

namespace Aether.Netlink.Tests.Properties;

/// <summary>Well-formed messages to mutate: the kernel captures, plus requests Aether writes for every link kind.</summary>
internal static class Corpus
{
    public static IReadOnlyList<byte[]> Messages { get; } = Build();

    private static List<byte[]> Build()
    {
        var captured = new[]
        {
            VethCreateFixtureTests.Captured, VethCreateReplyFixtureTests.Ack, VethCreateReplyFixtureTests.ProbeError,
            AddressFixtureTests.AddRequest, AddressFixtureTests.DumpReplies, RouteFixtureTests.AddRequestCaptured,
            RouteFixtureTests.DumpReplies, ExtendedAckFixtureTests.UnreachableGateway, ExtendedAckFixtureTests.UnknownKind,
            LinkDumpFixtureTests.Done,
        };
        var list = captured.Select(Hex.Parse).ToList();
        list.Add(Hex.Load("link_reply_lo.hex"));
        list.Add(Hex.Load("link_reply_va.hex"));

        LinkKindData[] kinds =
        [
            new Veth("peer0") { PeerMtu = 9000, PeerMacAddress = "02:00:00:00:00:01" },
            new Bridge { Stp = true, ForwardDelay = 1500, AgeingTime = 30000 },
            new Vxlan(42) { Remote = IPAddress.Parse("192.0.2.1"), Local = IPAddress.Parse("192.0.2.2"), Port = 4789, Learning = false, Ttl = 64 },
            new Vxlan(7) { Group = IPAddress.Parse("ff05::1"), UnderlayIndex = 2 },
            new Macvlan(MacvlanMode.Bridge),
            new UnknownLinkKind("dummy", [new RawAttribute(1, [1, 2, 3])]),
        ];
        foreach (var kind in kinds)
        {
            var spec = new LinkSpec("x0", kind) { Mtu = 1400, MacAddress = "02:00:00:00:00:02", Alias = "aether", ParentIndex = 2 };
            list.Add(Wire.Emit((ref NetlinkWriter w) => Link.WriteCreate(ref w, spec, 1, 2)));
        }

        list.Add(Wire.Emit((ref NetlinkWriter w) => Neighbour.Write(ref w, RtmType.NewNeigh, 3, IPAddress.Parse("fe80::1"), "02:00:00:00:00:03", 1, 2)));
        list.Add(Wire.Emit((ref NetlinkWriter w) => NsId.WriteSet(ref w, 5, 7, 1, 2)));
        list.Add(Wire.Emit((ref NetlinkWriter w) => Link.WriteChange(ref w, 4, new LinkChange { Name = "x1", Up = true, Mtu = 1300 }, 1, 2)));
        list.Add(Wire.Emit((ref NetlinkWriter w) => Link.WriteChange(ref w, "x0", new LinkChange { Alias = "owned", Up = true, MacAddress = "02:00:00:00:00:09" }, 1, 2)));
        return list;
    }
}
