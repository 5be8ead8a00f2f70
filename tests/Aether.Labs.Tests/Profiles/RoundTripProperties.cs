using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.Labs.Tests.Profiles;

/// <summary>
/// For every profile: a vendor name maps to a Linux name and back to the same vendor name (to the first rule's
/// spelling for an alias such as <c>Et1</c>); a Linux name maps to a vendor name and back to itself; and any text at
/// all is either refused or mapped to a name the kernel accepts, consistently both ways.
/// </summary>
public sealed partial class RoundTripProperties
{
    private static readonly InterfaceProfiles Profiles = InterfaceProfiles.Default;

    [GeneratedRegex(@"\{([a-z][a-z0-9]*)\}")]
    private static partial Regex Placeholder();

    /// <summary>A rule's pattern with numbers put in, one per placeholder in order of appearance in the vendor
    /// pattern; the Linux form gets the port's number plus the offset.</summary>
    private static string Fill(InterfaceRule rule, string pattern, int[] numbers, bool linux)
    {
        var names = rule.Placeholders;
        return Placeholder().Replace(pattern, m =>
        {
            var index = names.ToList().IndexOf(m.Groups[1].Value);
            var value = numbers[index] + (linux && index == names.Count - 1 ? rule.Offset : 0);
            return value.ToString(CultureInfo.InvariantCulture);
        });
    }

    /// <summary>A profile with rules, one of its rules, and numbers in range for it.</summary>
    private static readonly Gen<(InterfaceProfile Profile, InterfaceRule Rule, int[] Numbers)> RuleCases =
        from profile in Gen.Elements(Profiles.Profiles.Where(p => p.Rules.Count > 0).ToArray())
        from rule in Gen.Elements(profile.Rules.ToArray())
        from numbers in Gen.ArrayOf(
            Gen.Frequency((8, Gen.Choose(rule.First, rule.First + 60)), (1, Gen.Choose(rule.First, 9999))),
            rule.Placeholders.Count)
        select (profile, rule, numbers);

    private static readonly Gen<string> Texts =
        Gen.OneOf(
            from length in Gen.Choose(0, 20)
            from chars in Gen.ArrayOf(Gen.Elements("eEthrntGigab-/0123456789_ .:lo".ToCharArray()), length)
            select new string(chars),
            from c in RuleCases
            from mutation in Gen.Elements("", "0", "/", "-", " ", "x")
            from cut in Gen.Choose(0, 3)
            let name = Fill(c.Rule, c.Rule.Vendor, c.Numbers, linux: false) + mutation
            select name[..Math.Max(0, name.Length - cut)]);

    [Fact]
    public void A_vendor_name_goes_to_linux_and_back()
    {
        Run(Prop.ForAll(RuleCases.ToArbitrary(), c =>
        {
            var vendor = Fill(c.Rule, c.Rule.Vendor, c.Numbers, linux: false);
            var expectedLinux = Fill(c.Rule, c.Rule.Linux, c.Numbers, linux: true);
            if (!Profiles.TryToLinux(c.Profile.Kind, vendor, out var linux, out var error))
            {
                throw new InvalidOperationException($"{c.Profile.Kind}: {vendor}: {error}");
            }

            // The canonical spelling: the first rule with the same Linux form (Et1 is an alias of Ethernet1).
            var canonical = c.Profile.Rules.First(r => r.Linux == c.Rule.Linux && r.Offset == c.Rule.Offset && r.First == c.Rule.First);
            var expectedVendor = Fill(canonical, canonical.Vendor, c.Numbers, linux: false);
            return linux == expectedLinux && Profiles.ToVendor(c.Profile.Kind, linux) == expectedVendor
                && Profiles.TryToLinux(c.Profile.Kind, expectedVendor, out var again, out _) && again == linux;
        }));
    }

    [Fact]
    public void A_linux_name_goes_to_vendor_and_back()
    {
        Run(Prop.ForAll(RuleCases.ToArbitrary(), c =>
        {
            var linux = Fill(c.Rule, c.Rule.Linux, c.Numbers, linux: true);
            var vendor = Profiles.ToVendor(c.Profile.Kind, linux);
            return vendor != linux
                && Profiles.TryMap(c.Profile.Kind, linux, out var fromLinux, out _) && fromLinux == new InterfaceMatch(linux, vendor, false)
                && Profiles.TryToLinux(c.Profile.Kind, vendor, out var back, out _) && back == linux;
        }));
    }

    [Fact]
    public void Any_text_is_refused_or_mapped_to_a_kernel_name_consistently()
    {
        var kinds = Gen.Elements(Profiles.KnownKinds.ToArray());
        Run(Prop.ForAll(kinds.ToArbitrary(), Texts.ToArbitrary(), (kind, text) =>
        {
            if (!Profiles.TryMap(kind, text, out var match, out var error))
            {
                return error.Length > 0;
            }

            return Aether.Netlink.Names.InterfaceNameRule.IsValid(match.Linux, out _) && match.Linux != "lo"
                && Profiles.TryToLinux(kind, match.Vendor, out var fromVendor, out _) && fromVendor == match.Linux
                && Profiles.ToVendor(kind, match.Linux) is var vendor
                && Profiles.TryToLinux(kind, vendor, out var again, out _) && again == match.Linux
                && (match.WrittenAsVendor ? match.Vendor == text : match.Linux == text && match.Vendor == vendor);
        }));
    }

    private static void Run(Property property) => Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), property);
}
