namespace Aether.Labs.Tests.Profiles;

/// <summary>The built-in profiles, both ways, row by row.</summary>
public sealed class ProfileTableTests
{
    private static readonly InterfaceProfiles Profiles = InterfaceProfiles.Default;

    [Fact]
    public void The_default_kinds_are_the_five()
    {
        Assert.Equal(["linux", "arista_ceos", "juniper_vmx", "cisco_iosxr", "nokia_srlinux"], Profiles.KnownKinds);
    }

    [Theory]
    // linux: any name the kernel accepts is its own vendor name
    [InlineData("linux", "eth1", "eth1", "eth1", false)]
    [InlineData("linux", "eth0", "eth0", "eth0", false)]
    [InlineData("linux", "veth-a.100", "veth-a.100", "veth-a.100", false)]
    [InlineData("linux", "Ethernet1", "Ethernet1", "Ethernet1", false)]
    [InlineData("linux", "abcdefghijklmno", "abcdefghijklmno", "abcdefghijklmno", false)]
    // arista_ceos: EthernetN <-> ethN, EthernetN/M <-> ethN_M, short forms EtN and EtN/M
    [InlineData("arista_ceos", "Ethernet1", "eth1", "Ethernet1", true)]
    [InlineData("arista_ceos", "Ethernet12", "eth12", "Ethernet12", true)]
    [InlineData("arista_ceos", "Ethernet1/1", "eth1_1", "Ethernet1/1", true)]
    [InlineData("arista_ceos", "Ethernet49/4", "eth49_4", "Ethernet49/4", true)]
    [InlineData("arista_ceos", "Et1", "eth1", "Et1", true)]
    [InlineData("arista_ceos", "Et2/3", "eth2_3", "Et2/3", true)]
    [InlineData("arista_ceos", "eth2", "eth2", "Ethernet2", false)]
    [InlineData("arista_ceos", "eth1_4", "eth1_4", "Ethernet1/4", false)]
    // juniper_vmx: ge-0/0/N <-> eth(N+1)
    [InlineData("juniper_vmx", "ge-0/0/0", "eth1", "ge-0/0/0", true)]
    [InlineData("juniper_vmx", "ge-0/0/9", "eth10", "ge-0/0/9", true)]
    [InlineData("juniper_vmx", "eth1", "eth1", "ge-0/0/0", false)]
    [InlineData("juniper_vmx", "eth7", "eth7", "ge-0/0/6", false)]
    // cisco_iosxr: GigabitEthernet0/0/0/N <-> eth(N+1), short form Gi0/0/0/N
    [InlineData("cisco_iosxr", "GigabitEthernet0/0/0/0", "eth1", "GigabitEthernet0/0/0/0", true)]
    [InlineData("cisco_iosxr", "GigabitEthernet0/0/0/15", "eth16", "GigabitEthernet0/0/0/15", true)]
    [InlineData("cisco_iosxr", "Gi0/0/0/3", "eth4", "Gi0/0/0/3", true)]
    [InlineData("cisco_iosxr", "eth5", "eth5", "GigabitEthernet0/0/0/4", false)]
    // nokia_srlinux: ethernet-S/N <-> eS-N, breakouts ethernet-S/N/M <-> eS-N-M
    [InlineData("nokia_srlinux", "ethernet-1/1", "e1-1", "ethernet-1/1", true)]
    [InlineData("nokia_srlinux", "ethernet-1/32", "e1-32", "ethernet-1/32", true)]
    [InlineData("nokia_srlinux", "ethernet-2/10", "e2-10", "ethernet-2/10", true)]
    [InlineData("nokia_srlinux", "ethernet-1/3/2", "e1-3-2", "ethernet-1/3/2", true)]
    [InlineData("nokia_srlinux", "e1-5", "e1-5", "ethernet-1/5", false)]
    [InlineData("nokia_srlinux", "e1-3-4", "e1-3-4", "ethernet-1/3/4", false)]
    public void A_name_maps_to_its_linux_and_vendor_names(string kind, string name, string linux, string vendor, bool writtenAsVendor)
    {
        Assert.True(Profiles.TryToLinux(kind, name, out var mapped, out var error), error);
        Assert.Equal(linux, mapped);
        Assert.True(Profiles.TryMap(kind, name, out var match, out error), error);
        Assert.Equal(new InterfaceMatch(linux, vendor, writtenAsVendor), match);
    }

    [Theory]
    [InlineData("linux", "eth1", "eth1")]
    [InlineData("linux", "lan0", "lan0")]
    [InlineData("arista_ceos", "eth1", "Ethernet1")]
    [InlineData("arista_ceos", "eth48", "Ethernet48")]
    [InlineData("arista_ceos", "eth3_2", "Ethernet3/2")]
    [InlineData("arista_ceos", "eth0", "eth0")]
    [InlineData("arista_ceos", "eth01", "eth01")]
    [InlineData("juniper_vmx", "eth1", "ge-0/0/0")]
    [InlineData("juniper_vmx", "eth10", "ge-0/0/9")]
    [InlineData("juniper_vmx", "eth0", "eth0")]
    [InlineData("cisco_iosxr", "eth1", "GigabitEthernet0/0/0/0")]
    [InlineData("cisco_iosxr", "eth3", "GigabitEthernet0/0/0/2")]
    [InlineData("nokia_srlinux", "e1-1", "ethernet-1/1")]
    [InlineData("nokia_srlinux", "e3-7", "ethernet-3/7")]
    [InlineData("nokia_srlinux", "e1-2-1", "ethernet-1/2/1")]
    [InlineData("nokia_srlinux", "eth1", "eth1")]
    [InlineData("no_such_kind", "eth1", "eth1")]
    public void ToVendor_gives_the_first_rules_vendor_name_or_the_linux_name(string kind, string linux, string vendor)
    {
        Assert.Equal(vendor, Profiles.ToVendor(kind, linux));
    }

    [Theory]
    [InlineData("linux", "lo", "'lo' is the namespace's loopback")]
    [InlineData("linux", "a/b", "'a/b': '/' (U+002F) is not allowed in an interface name")]
    [InlineData("linux", "a:b", "'a:b': ':' (U+003A) is not allowed in an interface name")]
    [InlineData("linux", "eth 1", "'eth 1': ' ' (U+0020) is not allowed in an interface name (whitespace")]
    [InlineData("linux", "eth\t1", "'eth\\t1': U+0009 is not allowed in an interface name")]
    [InlineData("linux", ".", "'.' is refused")]
    [InlineData("linux", "..", "'..' is refused")]
    [InlineData("linux", "abcdefghijklmnop", "16 bytes; the limit is 15")]
    [InlineData("linux", "ééééééééé", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    [InlineData("linux", "eth%d", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("linux", "eth*", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("arista_ceos", "Ethernet0", "'Ethernet0' is out of range for kind arista_ceos: Ethernet{n} starts at Ethernet1 (eth1)")]
    [InlineData("arista_ceos", "eth0", "'eth0' is out of range for kind arista_ceos: Ethernet{n} starts at Ethernet1 (eth1)")]
    [InlineData("arista_ceos", "ethernet1", "did you mean 'Ethernet1'?")]
    [InlineData("arista_ceos", "Eth1", "did you mean 'eth1'?")]
    [InlineData("arista_ceos", "Ethernet01", "'Ethernet01' is not an interface name of kind arista_ceos; its names are Ethernet{n} ↔ eth{n}, n ≥ 1; Ethernet{n}/{m} ↔ eth{n}_{m}, n, m ≥ 1; Et{n} ↔ eth{n}, n ≥ 1; Et{n}/{m} ↔ eth{n}_{m}, n, m ≥ 1")]
    [InlineData("arista_ceos", "Ethernet1234567", "is not an interface name of kind arista_ceos")]
    [InlineData("arista_ceos", "ge-0/0/0", "is not an interface name of kind arista_ceos")]
    [InlineData("arista_ceos", "lo", "is not an interface name of kind arista_ceos")]
    [InlineData("arista_ceos", "Ethernet999999/999999", "would be the Linux name 'eth999999_999999': 16 bytes; the limit is 15")]
    [InlineData("juniper_vmx", "eth0", "'eth0' is out of range for kind juniper_vmx: ge-0/0/{n} starts at ge-0/0/0 (eth1)")]
    [InlineData("juniper_vmx", "xe-0/0/0", "its names are ge-0/0/{n} ↔ eth{n+1}, n ≥ 0")]
    [InlineData("juniper_vmx", "ge-0/0/", "is not an interface name of kind juniper_vmx")]
    [InlineData("juniper_vmx", "Ethernet1", "is not an interface name of kind juniper_vmx")]
    [InlineData("cisco_iosxr", "eth0", "starts at GigabitEthernet0/0/0/0 (eth1)")]
    [InlineData("cisco_iosxr", "gi0/0/0/1", "did you mean 'Gi0/0/0/1'?")]
    [InlineData("nokia_srlinux", "eth1", "its names are ethernet-{s}/{n} ↔ e{s}-{n}, s, n ≥ 1; ethernet-{s}/{n}/{m} ↔ e{s}-{n}-{m}, s, n, m ≥ 1")]
    [InlineData("nokia_srlinux", "ethernet-1/0", "starts at ethernet-1/1 (e1-1)")]
    [InlineData("nokia_srlinux", "e1-0", "starts at ethernet-1/1 (e1-1)")]
    [InlineData("no_such_kind", "eth1", "unknown kind 'no_such_kind'; known kinds: linux, arista_ceos, juniper_vmx, cisco_iosxr, nokia_srlinux")]
    [InlineData("arista_eos", "eth1", "unknown kind 'arista_eos'; did you mean 'arista_ceos'?")]
    public void A_name_the_profile_cannot_map_is_refused_saying_why(string kind, string name, string why)
    {
        Assert.False(Profiles.TryToLinux(kind, name, out var linux, out var error));
        Assert.Null(linux);
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_rules_describe_themselves()
    {
        Assert.True(Profiles.TryGet("juniper_vmx", out var juniper));
        Assert.Equal("juniper_vmx: ge-0/0/{n} ↔ eth{n+1}, n ≥ 0", juniper.ToString());
        Assert.True(Profiles.TryGet("linux", out var linux));
        Assert.Equal("linux: any Linux name", linux.ToString());
        Assert.True(linux.AnyLinuxName);
        Assert.False(juniper.AnyLinuxName);
    }
}
