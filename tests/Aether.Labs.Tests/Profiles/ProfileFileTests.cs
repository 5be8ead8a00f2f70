namespace Aether.Labs.Tests.Profiles;

/// <summary>The user's profile file: kinds added and overridden, and its own errors with positions.</summary>
public sealed class ProfileFileTests
{
    private const string File = "profiles.yaml";

    private static InterfaceProfiles Valid(string yaml)
    {
        var result = InterfaceProfiles.Parse(yaml, File);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        return result.Profiles!;
    }

    /// <summary>Asserts exactly one error at <paramref name="line"/>:<paramref name="column"/>, starting with
    /// <paramref name="field"/> and holding <paramref name="text"/>.</summary>
    private static void Error(string yaml, int line, int column, string field, string text)
    {
        var result = InterfaceProfiles.Parse(yaml, File);
        Assert.Null(result.Profiles);
        var error = Assert.Single(result.Errors);
        Assert.Equal(File, error.File);
        Assert.StartsWith(field + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal($"{File}:{line}:{column}: {error.Message}", error.ToString());
    }

    [Fact]
    public void A_file_adds_a_kind_after_the_built_in_ones()
    {
        var profiles = Valid("""
            kinds:
              cisco_nxos:
                interfaces:
                  - vendor: "Ethernet1/{n}"
                    linux: "eth{n}"
                    first: 1
            """);
        Assert.Equal(["linux", "arista_ceos", "juniper_vmx", "cisco_iosxr", "nokia_srlinux", "cisco_nxos"], profiles.KnownKinds);
        Assert.True(profiles.TryMap("cisco_nxos", "Ethernet1/7", out var match, out var error), error);
        Assert.Equal(new InterfaceMatch("eth7", "Ethernet1/7", true), match);
        Assert.Equal("Ethernet1/3", profiles.ToVendor("cisco_nxos", "eth3"));
        Assert.False(profiles.TryToLinux("cisco_nxos", "eth0", out _, out error));
        Assert.Contains("starts at Ethernet1/1 (eth1)", error, StringComparison.Ordinal);

        // The built-in kinds are unchanged.
        Assert.True(profiles.TryToLinux("arista_ceos", "Ethernet4", out var linux, out _));
        Assert.Equal("eth4", linux);
    }

    [Fact]
    public void A_file_overrides_a_kind_in_place()
    {
        var profiles = Valid("""
            kinds:
              juniper_vmx:
                interfaces:
                  - { vendor: "ge-0/0/{n}", linux: "eth{n}" }
                  - { vendor: "xe-0/0/{n}", linux: "xe{n}", offset: 10 }
            """);
        Assert.Equal(InterfaceProfiles.Default.KnownKinds, profiles.KnownKinds);
        Assert.True(profiles.TryToLinux("juniper_vmx", "ge-0/0/0", out var linux, out var error), error);
        Assert.Equal("eth0", linux);
        Assert.True(profiles.TryToLinux("juniper_vmx", "xe-0/0/2", out linux, out error), error);
        Assert.Equal("xe12", linux);
        Assert.Equal("xe-0/0/0", profiles.ToVendor("juniper_vmx", "xe10"));
        Assert.Equal("xe9", profiles.ToVendor("juniper_vmx", "xe9"));

        // The default table itself is untouched.
        Assert.True(InterfaceProfiles.Default.TryToLinux("juniper_vmx", "ge-0/0/0", out linux, out _));
        Assert.Equal("eth1", linux);
    }

    [Fact]
    public void A_kind_with_no_rules_takes_any_linux_name_and_linux_names_any_adds_them_to_rules()
    {
        var profiles = Valid("""
            kinds:
              frr:
              sonic:
                linux_names: any
                interfaces:
                  - { vendor: "Ethernet{n}", linux: "eth{n}", offset: 1 }
            """);
        Assert.True(profiles.TryMap("frr", "lan-3", out var match, out var error), error);
        Assert.Equal(new InterfaceMatch("lan-3", "lan-3", false), match);
        Assert.True(profiles.TryMap("sonic", "Ethernet0", out match, out error), error);
        Assert.Equal(new InterfaceMatch("eth1", "Ethernet0", true), match);
        Assert.True(profiles.TryMap("sonic", "mgmt0", out match, out error), error);
        Assert.Equal(new InterfaceMatch("mgmt0", "mgmt0", false), match);
        Assert.False(profiles.TryMap("sonic", "lo", out _, out error));
        Assert.Contains("loopback", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_goes_over_the_profiles_given_and_merge_does_the_same()
    {
        var first = Valid("kinds:\n  a1:\n    interfaces: [{ vendor: 'P{n}', linux: 'p{n}' }]\n");
        var second = InterfaceProfiles.Parse("kinds:\n  a2:\n", File, first);
        Assert.True(second.IsValid, string.Join('\n', second.Errors));
        Assert.Equal(["a1", "a2"], second.Profiles!.KnownKinds.TakeLast(2));
        Assert.Equal(second.Profiles.KnownKinds, InterfaceProfiles.Default.Merge(first).With(second.Profiles.Profiles.TakeLast(1)).KnownKinds);
    }

    [Fact]
    public void LoadFile_reads_a_file_and_reports_one_it_cannot_read()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aet-profiles-{Guid.NewGuid():N}.yaml");
        try
        {
            System.IO.File.WriteAllText(path, "kinds:\n  frr:\n    linux_names: any\n");
            var result = InterfaceProfiles.LoadFile(path);
            Assert.True(result.IsValid, string.Join('\n', result.Errors));
            Assert.Contains("frr", result.Profiles!.KnownKinds);

            System.IO.File.WriteAllText(path, "kinds:\n  frr:\n    linux_name: any\n");
            var error = Assert.Single(InterfaceProfiles.LoadFile(path).Errors);
            Assert.Equal($"{path}:3:5: kinds.frr.linux_name: unknown key; did you mean 'linux_names'? allowed here: interfaces, linux_names", error.ToString());
        }
        finally
        {
            System.IO.File.Delete(path);
        }

        var missing = Assert.Single(InterfaceProfiles.LoadFile(path).Errors);
        Assert.Equal((path, 1, 1), (missing.File, missing.Line, missing.Column));
        Assert.StartsWith("cannot read the file: ", missing.Message, StringComparison.Ordinal);
    }

    // ---- errors, each at its line and column ----

    [Fact]
    public void An_empty_file() =>
        Assert.StartsWith("the file is empty", Assert.Single(InterfaceProfiles.Parse("# nothing\n", File).Errors).Message, StringComparison.Ordinal);

    [Fact]
    public void Kinds_is_required() => Error("{}\n", 1, 1, "kinds", "required (a mapping of kind names to their rules)");

    [Fact]
    public void An_unknown_top_level_key_suggests_the_nearest()
    {
        var errors = InterfaceProfiles.Parse("kind: {}\n", File).Errors.Select(e => e.ToString());
        Assert.Equal(
        [
            "profiles.yaml:1:1: kind: unknown key; did you mean 'kinds'? allowed here: kinds",
            "profiles.yaml:1:1: kinds: required (a mapping of kind names to their rules)",
        ], errors);
    }

    [Fact]
    public void Kinds_must_be_a_mapping() => Error("kinds: [a]\n", 1, 8, "kinds", "expected a mapping of kind names to their rules; got a list");

    [Fact]
    public void Unknown_rule_key() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'A{n}', linux: 'a{n}', ofset: 1 }\n", 4, 42, "kinds.x.interfaces[0].ofset",
            "unknown key; did you mean 'offset'? allowed here: vendor, linux, offset, first");

    [Fact]
    public void Invalid_kind_name() => Error("kinds:\n  Arista:\n", 2, 3, "kinds.Arista", "invalid kind name: must start with a lowercase letter or digit");

    [Fact]
    public void A_kind_given_twice() => Error("kinds:\n  x:\n  y:\n  x:\n", 4, 3, "kinds.x", "duplicate key; the first is at line 2 (this one is ignored)");

    [Fact]
    public void Vendor_is_required() =>
        Error("kinds:\n  x:\n    interfaces:\n      - linux: 'a{n}'\n", 4, 9, "kinds.x.interfaces[0].vendor", "required (the vendor name pattern, Ethernet{n})");

    [Fact]
    public void Linux_is_required() =>
        Error("kinds:\n  x:\n    interfaces:\n      - vendor: 'A{n}'\n", 4, 9, "kinds.x.interfaces[0].linux", "required (the Linux form, eth{n})");

    [Theory]
    [InlineData("Ethernet{n", "'{' at character 9 is not closed")]
    [InlineData("Ethernet}n", "'}' at character 9 closes nothing")]
    [InlineData("Ethernet{N}", "'{N}' is not a placeholder: write a lowercase name, {n}")]
    [InlineData("Ethernet{}", "'{}' is not a placeholder")]
    [InlineData("E{n}/{n}", "{n} appears twice")]
    [InlineData("E{n}{m}", "{n}{m}: two numbers side by side could not be told apart")]
    [InlineData("E{n}0", "the digit after {n} would be read as part of its number")]
    [InlineData("E {n}", "':' and whitespace cannot be written in an endpoint")]
    [InlineData("E:{n}", "':' and whitespace cannot be written in an endpoint")]
    [InlineData("", "empty")]
    public void A_bad_vendor_pattern_is_reported_at_the_vendor(string vendor, string why) =>
        Error($"kinds:\n  x:\n    interfaces:\n      - vendor: \"{vendor}\"\n        linux: 'a{{n}}'\n", 4, 17, "kinds.x.interfaces[0].vendor", why);

    [Theory]
    [InlineData("eth{n", "Linux form 'eth{n': '{' at character 4 is not closed")]
    [InlineData("eth/{n}", "the kernel refuses '/' in interface names")]
    [InlineData("eth:{n}", "the kernel refuses ':' in interface names")]
    [InlineData("eth {n}", "the kernel refuses whitespace in interface names")]
    [InlineData("eth{m}", "the vendor pattern has placeholders {n} and the Linux form {m}; both need the same")]
    [InlineData("eth", "the vendor pattern has placeholders {n} and the Linux form none")]
    [InlineData("averyverylongname{n}", "its first name 'averyverylongname0': 18 bytes; the limit is 15")]
    public void A_bad_linux_form_is_reported_at_the_linux(string linux, string why) =>
        Error($"kinds:\n  x:\n    interfaces:\n      - vendor: 'A{{n}}'\n        linux: \"{linux}\"\n", 5, 16, "kinds.x.interfaces[0].linux", why);

    [Fact]
    public void Lo_cannot_be_a_linux_form() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'Loopback0', linux: 'lo' }\n", 4, 39, "kinds.x.interfaces[0].linux", "'lo' is every namespace's loopback");

    [Fact]
    public void An_offset_without_placeholders() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'Management0', linux: 'eth0', offset: 1 }\n", 4, 57, "kinds.x.interfaces[0].offset",
            "an offset needs a number to add it to");

    [Fact]
    public void An_offset_below_zero_on_the_linux_side() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'A{n}', linux: 'a{n}', offset: -1 }\n", 4, 50, "kinds.x.interfaces[0].offset",
            "offset -1 takes the first port, 0, below 0 on the Linux side");

    [Fact]
    public void A_negative_first() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'A{n}', linux: 'a{n}', first: -1 }\n", 4, 49, "kinds.x.interfaces[0].first", "-1 is outside 0..999999");

    [Fact]
    public void A_rule_that_would_never_be_used() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'A{n}', linux: 'a{n}' }\n      - { vendor: 'A{m}', linux: 'b{m}' }\n", 5, 19,
            "kinds.x.interfaces[1].vendor", "reads the same names as kinds.x.interfaces[0].vendor (line 4), which is tried first: this rule would never be used");

    [Fact]
    public void A_vendor_pattern_that_reads_linux_names() =>
        Error("kinds:\n  x:\n    interfaces:\n      - { vendor: 'eth{n}', linux: 'eth{n}', offset: 1 }\n", 4, 19,
            "kinds.x.interfaces[0].vendor", "reads the same names as the Linux form kinds.x.interfaces[0].linux (line 4); a name must be either a vendor name or a Linux name");

    [Fact]
    public void Linux_names_mapped_without_rules() =>
        Error("kinds:\n  x:\n    linux_names: mapped\n", 3, 18, "kinds.x.linux_names", "'mapped' with no interfaces rules would accept no name at all");

    [Fact]
    public void Linux_names_must_be_mapped_or_any() =>
        Error("kinds:\n  x:\n    linux_names: Any\n", 3, 18, "kinds.x.linux_names", "'Any' is not one of mapped, any; did you mean 'any'?");

    [Fact]
    public void Every_problem_is_reported_at_once_in_file_order()
    {
        var result = InterfaceProfiles.Parse("""
            kinds:
              x:
                interfaces:
                  - { vendor: 'A{n', linux: 'a{n}' }
                  - { vendor: 'B{n}', linux: 'b/{n}' }
              Y:
              z:
                linux_names: none
            extra: 1
            """, File);
        Assert.Null(result.Profiles);
        Assert.Equal(
        [
            "profiles.yaml:4:19: kinds.x.interfaces[0].vendor: vendor pattern 'A{n': '{' at character 2 is not closed",
            "profiles.yaml:5:34: kinds.x.interfaces[1].linux: Linux form 'b/{n}': the kernel refuses '/' in interface names",
            "profiles.yaml:6:3: kinds.Y: invalid kind name: must start with a lowercase letter or digit",
            "profiles.yaml:8:18: kinds.z.linux_names: 'none' is not one of mapped, any",
            "profiles.yaml:9:1: extra: unknown key; allowed here: kinds",
        ], result.Errors.Select(e => e.ToString()));
    }
}
