using System.Net;
using Aether.Netlink.Protocol;

namespace Aether.Netlink.Rtnl;

/// <summary>
/// The request writers shared by single calls on <see cref="NetlinkHandle"/> and by <see cref="RouteBatch"/>:
/// cached static delegates, so queuing or sending a request allocates no closure.
/// </summary>
internal static class RtnlRequests
{
    public static readonly WriteRequest<LinkSpec> CreateLink = static (ref NetlinkWriter w, LinkSpec s, uint seq, uint pid) => Link.WriteCreate(ref w, s, seq, pid);

    public static readonly WriteRequest<(LinkRef Target, LinkChange Change)> ChangeLink =
        static (ref NetlinkWriter w, (LinkRef Target, LinkChange Change) s, uint seq, uint pid) => Link.WriteChange(ref w, s.Target, s.Change, seq, pid);

    public static readonly WriteRequest<LinkRef> DeleteLink = static (ref NetlinkWriter w, LinkRef s, uint seq, uint pid) => Link.WriteDelete(ref w, s, seq, pid);

    public static readonly WriteRequest<LinkRef> GetLink = static (ref NetlinkWriter w, LinkRef s, uint seq, uint pid) => Link.WriteGet(ref w, s, seq, pid);

    public static readonly WriteRequest<int> DumpLinks = static (ref NetlinkWriter w, int _, uint seq, uint pid) => Link.WriteDump(ref w, seq, pid);

    public static readonly WriteRequest<AddressSpec> AddAddress =
        static (ref NetlinkWriter w, AddressSpec s, uint seq, uint pid) => Address.Write(ref w, RtmType.NewAddr, NlmsgFlags.Create | NlmsgFlags.Excl, s, seq, pid);

    public static readonly WriteRequest<AddressSpec> ReplaceAddress =
        static (ref NetlinkWriter w, AddressSpec s, uint seq, uint pid) => Address.Write(ref w, RtmType.NewAddr, NlmsgFlags.Create | NlmsgFlags.Replace, s, seq, pid);

    public static readonly WriteRequest<AddressSpec> DeleteAddress =
        static (ref NetlinkWriter w, AddressSpec s, uint seq, uint pid) => Address.Write(ref w, RtmType.DelAddr, 0, s, seq, pid);

    public static readonly WriteRequest<(byte Family, int Index)> DumpAddresses =
        static (ref NetlinkWriter w, (byte Family, int Index) s, uint seq, uint pid) => Address.WriteDump(ref w, s.Family, s.Index, seq, pid);

    public static readonly WriteRequest<Route> AddRoute =
        static (ref NetlinkWriter w, Route s, uint seq, uint pid) => Route.Write(ref w, RtmType.NewRoute, NlmsgFlags.Create | NlmsgFlags.Excl, s, seq, pid);

    public static readonly WriteRequest<Route> ReplaceRoute =
        static (ref NetlinkWriter w, Route s, uint seq, uint pid) => Route.Write(ref w, RtmType.NewRoute, NlmsgFlags.Create | NlmsgFlags.Replace, s, seq, pid);

    public static readonly WriteRequest<Route> DeleteRoute =
        static (ref NetlinkWriter w, Route s, uint seq, uint pid) => Route.Write(ref w, RtmType.DelRoute, 0, s, seq, pid);

    public static readonly WriteRequest<RouteFilter> DumpRoutes = static (ref NetlinkWriter w, RouteFilter s, uint seq, uint pid) => Route.WriteDump(ref w, s, seq, pid);

    public static readonly WriteRequest<(int Index, IPAddress Address, string? Mac)> AddNeighbour =
        static (ref NetlinkWriter w, (int Index, IPAddress Address, string? Mac) s, uint seq, uint pid) => Neighbour.Write(ref w, RtmType.NewNeigh, s.Index, s.Address, s.Mac, seq, pid);

    public static readonly WriteRequest<(int Index, IPAddress Address, string? Mac)> DeleteNeighbour =
        static (ref NetlinkWriter w, (int Index, IPAddress Address, string? Mac) s, uint seq, uint pid) => Neighbour.Write(ref w, RtmType.DelNeigh, s.Index, s.Address, null, seq, pid);

    public static readonly WriteRequest<int> DumpNeighbours = static (ref NetlinkWriter w, int index, uint seq, uint pid) => Neighbour.WriteDump(ref w, index, seq, pid);

    public static readonly WriteRequest<int> GetNsId = static (ref NetlinkWriter w, int fd, uint seq, uint pid) => NsId.WriteGet(ref w, fd, seq, pid);

    public static readonly WriteRequest<(int Fd, int NsId)> SetNsId =
        static (ref NetlinkWriter w, (int Fd, int NsId) s, uint seq, uint pid) => NsId.WriteSet(ref w, s.Fd, s.NsId, seq, pid);

    public static readonly MessageParser<Link> ParseLink = Link.TryParse;
    public static readonly MessageParser<Address> ParseAddress = Address.TryParse;
    public static readonly MessageParser<Route> ParseRoute = Route.TryParse;
    public static readonly MessageParser<Neighbour> ParseNeighbour = Neighbour.TryParse;
    public static readonly MessageParser<int> ParseNsId = NsId.TryParse;

    public static string CreateOperation(LinkSpec spec) => spec.Kind switch
    {
        Veth => "create veth",
        Bridge => "create bridge",
        Vxlan => "create vxlan",
        Macvlan => "create macvlan",
        _ => "create " + spec.Kind.Kind,
    };

    public static string AddressTarget(AddressSpec spec) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{spec.Prefix} on ifindex {spec.Index}");

    public static string RouteTarget(Route route) => route.Destination?.ToString() ?? "default";
}
