using Aether.Netlink;

namespace Aether.Topology.Tests;

/// <summary>A namespace's <c>nat</c> list: masquerade rules, validated field by field.</summary>
public sealed class NatTests
{
    private const string Head = "name: x\nnamespaces:\n  - name: a\n    nat:\n";

    [Fact]
    public void Masquerade_rules_map_to_the_model_in_file_order()
    {
        var spec = Load.Valid(Head + "      - masquerade: { source: 10.0.0.0/24, out: eth0 }\n      - masquerade:\n          source: fd00:1::/64\n          out: wg0\n");
        Assert.Equal(
            [new TopologyMasquerade(IPPrefix.Parse("10.0.0.0/24"), "eth0"), new TopologyMasquerade(IPPrefix.Parse("fd00:1::/64"), "wg0")],
            spec.Namespaces[0].Nat);
        Assert.Empty(Load.Valid("name: x\nnamespaces:\n  - name: a\n").Namespaces[0].Nat);
    }

    [Fact]
    public void A_source_with_host_bits_is_refused() =>
        Load.Error(Head + "      - masquerade: { source: 10.0.0.1/24, out: eth0 }\n", 5, 31, "namespaces[0].nat[0].masquerade.source", "'10.0.0.1/24' has host bits set; the network is 10.0.0.0/24");

    [Fact]
    public void A_source_without_a_length_is_refused() =>
        Load.Error(Head + "      - masquerade: { source: 10.0.0.0, out: eth0 }\n", 5, 31, "namespaces[0].nat[0].masquerade.source", "has no prefix length");

    [Fact]
    public void The_output_interface_is_required_and_checked()
    {
        Load.Error(Head + "      - masquerade: { source: 10.0.0.0/24 }\n", 5, 21, "namespaces[0].nat[0].masquerade.out", "required");
        Load.Error(Head + "      - masquerade: { source: 10.0.0.0/24, out: a-very-long-name0 }\n", 5, 49, "namespaces[0].nat[0].masquerade.out", "'a-very-long-name0': 17 bytes; the limit is 15");
    }

    [Fact]
    public void Unknown_keys_are_named()
    {
        Load.Error(Head + "      - masquerade: { source: 10.0.0.0/24, out: eth0, to: 1.2.3.4 }\n", 5, 55, "namespaces[0].nat[0].masquerade.to", "allowed here: source, out");
        var errors = Load.Parse(Head + "      - snat: { source: 10.0.0.0/24 }\n").Errors.Select(e => e.ToString());
        Assert.Equal(
            ["topo.yaml:5:9: namespaces[0].nat[0].masquerade: required ({ source: 10.0.0.0/24, out: eth0 })", "topo.yaml:5:9: namespaces[0].nat[0].snat: unknown key; allowed here: masquerade"],
            errors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_rule_given_twice_is_refused() =>
        Load.Error(Head + "      - masquerade: { source: 10.0.0.0/24, out: eth0 }\n      - masquerade: { source: 10.0.0.0/24, out: eth0 }\n", 6, 9, "namespaces[0].nat[1]", "the same rule as namespaces[0].nat[0]");

    [Fact]
    public void Nat_must_be_a_list() =>
        Load.Error(Head.TrimEnd('\n') + " { masquerade: {} }\n", 4, 10, "namespaces[0].nat", "expected a list");
}
