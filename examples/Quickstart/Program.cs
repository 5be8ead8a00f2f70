// The aether-ctl case: namespace "aether-ns" with the veth pair veth-host (host) <-> veth-ns (in the namespace),
// both up. Idempotent: observe, diff, act; a half-made pair from an earlier crash is detected, removed and recreated.
using Aether.Netlink;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;

const string NsName = "aether-ns";
const string HostEnd = "veth-host";
const string NsEnd = "veth-ns";

var nsName = args.Length > 0 ? args[0] : NsName;
var hostEnd = args.Length > 1 ? args[1] : HostEnd;
var nsEnd = args.Length > 2 ? args[2] : NsEnd;

try
{
    var changed = false;
    NetworkNamespace ns;
    if (NetworkNamespace.Exists(nsName))
    {
        ns = NetworkNamespace.Open(nsName);
        Console.WriteLine($"namespace {nsName}: exists (inode {ns.Inode})");
    }
    else
    {
        ns = NetworkNamespace.Create(nsName);
        Console.WriteLine($"namespace {nsName}: created (inode {ns.Inode})");
        changed = true;
    }

    using (ns)
    using (var host = NetlinkHandle.Open())
    using (var inside = NetlinkHandle.OpenAt(ns))
    {
        var hostLink = await host.FindLinkAsync(hostEnd);
        var nsLink = await inside.FindLinkAsync(nsEnd);
        var nsid = await host.GetNsIdAsync(ns);

        var paired = hostLink is not null && nsLink is not null
            && hostLink.Kind == "veth" && nsLink.Kind == "veth"
            && hostLink.LinkIndex == nsLink.Index && nsid >= 0 && hostLink.LinkNetNsId == nsid;

        if (hostLink is not null && !paired)
        {
            Console.WriteLine($"link {hostEnd}: exists but is not paired with {nsName}/{nsEnd} (peer ifindex {hostLink.LinkIndex?.ToString() ?? "none"}, netnsid {hostLink.LinkNetNsId?.ToString() ?? "none"}): deleting");
            await host.DeleteLinkAsync(hostLink.Index);
            hostLink = null;
        }

        if (nsLink is not null && !paired)
        {
            Console.WriteLine($"link {nsName}/{nsEnd}: exists without its host end: deleting");
            await inside.DeleteLinkAsync(nsLink.Index);
        }

        if (!paired)
        {
            await host.CreateLinkAsync(new LinkSpec(hostEnd, new Veth(nsEnd) { PeerNamespace = ns }) { Up = true });
            await inside.SetUpAsync(nsEnd);
            Console.WriteLine($"veth {hostEnd} <-> {nsName}/{nsEnd}: created, both up");
            changed = true;
        }
        else
        {
            Console.WriteLine($"veth {hostEnd} <-> {nsName}/{nsEnd}: exists and paired (ifindex {hostLink!.Index} <-> {nsLink!.Index})");
            if (!hostLink.IsUp)
            {
                await host.SetUpAsync(hostLink.Index);
                Console.WriteLine($"link {hostEnd}: set up");
                changed = true;
            }

            if (!nsLink.IsUp)
            {
                await inside.SetUpAsync(nsLink.Index);
                Console.WriteLine($"link {nsName}/{nsEnd}: set up");
                changed = true;
            }
        }

        var h = await host.GetLinkAsync(hostEnd);
        var n = await inside.GetLinkAsync(nsEnd);
        Console.WriteLine($"state: {h.Name} ifindex {h.Index} {h.OperState} peer-ifindex {h.LinkIndex} link-netnsid {h.LinkNetNsId}; {nsName}/{n.Name} ifindex {n.Index} {n.OperState}");
        Console.WriteLine(changed ? "--- converged (changes made) ---" : "--- already in sync (nothing changed) ---");
    }

    return 0;
}
catch (NetlinkException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 1;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("invalid input: " + ex.Message);
    return 2;
}
