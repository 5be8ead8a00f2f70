using System.Globalization;
using Aether.Labs.Yaml;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>A profile file read: the profiles (the base ones with the file's kinds added or overriding), or every
/// problem found in the file (never both).</summary>
/// <param name="Profiles">The profiles when the file is valid.</param>
/// <param name="Errors">Every problem, in file order.</param>
public sealed record InterfaceProfilesLoadResult(InterfaceProfiles? Profiles, IReadOnlyList<LabError> Errors)
{
    /// <summary>Whether the file is valid.</summary>
    public bool IsValid => Profiles is not null && Errors.Count == 0;
}

/// <summary>The user's profile file (YAML): <c>kinds:</c> maps each kind to its <c>interfaces</c> rules
/// (<c>vendor</c>, <c>linux</c>, <c>offset</c>, <c>first</c>) and <c>linux_names</c> (<c>mapped</c> or
/// <c>any</c>). See docs/labs.md.</summary>
public sealed partial class InterfaceProfiles
{
    /// <summary>Keys allowed at the top of a profile file.</summary>
    internal static readonly IReadOnlyList<string> FileKeys = ["kinds"];

    /// <summary>Keys allowed in a kind.</summary>
    internal static readonly IReadOnlyList<string> KindKeys = ["interfaces", "linux_names"];

    /// <summary>Keys allowed in a rule.</summary>
    internal static readonly IReadOnlyList<string> RuleKeys = ["vendor", "linux", "offset", "first"];

    /// <summary>The values of <c>linux_names</c>.</summary>
    internal static readonly IReadOnlyList<string> LinuxNamesValues = ["mapped", "any"];

    private const string FileShape = "a profile file is a mapping with the key kinds: { KIND: { interfaces: [ { vendor, linux, offset, first } ], linux_names: mapped|any } }";

    /// <summary>Reads the profile file at <paramref name="path"/> over <paramref name="baseProfiles"/> (by default
    /// <see cref="Default"/>). A file that cannot be read, or is refused by
    /// <see cref="DefinitionFile"/>'s limits, gives one error saying why.</summary>
    public static InterfaceProfilesLoadResult LoadFile(string path, InterfaceProfiles? baseProfiles = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var read = DefinitionFile.Read(path);
        if (read.Text is not { } text)
        {
            return new InterfaceProfilesLoadResult(null, [LabLoader.Error(path, read.Problem!)]);
        }

        return Parse(text, path, baseProfiles);
    }

    /// <summary>Reads the profile file text <paramref name="text"/> over <paramref name="baseProfiles"/> (by default
    /// <see cref="Default"/>); <paramref name="file"/> is only used in the errors.</summary>
    public static InterfaceProfilesLoadResult Parse(string text, string file, InterfaceProfiles? baseProfiles = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        if (DefinitionFile.CheckText(text) is { } tooBig)
        {
            return new InterfaceProfilesLoadResult(null, [LabLoader.Error(file, tooBig)]);
        }

        var problems = new LabProblems(file);
        var profiles = ReadFile(text, problems);
        var errors = problems.InFileOrder();
        return errors.Count == 0 && profiles is not null
            ? new InterfaceProfilesLoadResult((baseProfiles ?? Default).With(profiles), [])
            : new InterfaceProfilesLoadResult(null, errors);
    }

    private static List<InterfaceProfile>? ReadFile(string text, YamlProblems problems)
    {
        var root = YamlFile.Load(text, problems, FileShape);
        if (root is null)
        {
            return null;
        }

        var fields = problems.Mapping(root, "", FileKeys)!;
        if (!fields.Require("kinds", "a mapping of kind names to their rules"))
        {
            return null;
        }

        var profiles = new List<InterfaceProfile>();
        foreach (var (kind, keyNode, value) in problems.NamedItems(fields.Value("kinds")!, "kinds", "a mapping of kind names to their rules"))
        {
            var path = YamlProblems.Join("kinds", kind);
            if (!InterfaceProfile.IsKindName(kind, out var why))
            {
                problems.Add(keyNode.Start, $"{path}: invalid kind name: {why}");
                continue;
            }

            if (ReadKind(kind, value, path, problems) is { } profile)
            {
                profiles.Add(profile);
            }
        }

        return profiles;
    }

    private static InterfaceProfile? ReadKind(string kind, DefinitionNode node, string path, YamlProblems problems)
    {
        if (YamlProblems.IsNull(node))
        {
            return new InterfaceProfile(kind, []);
        }

        var fields = problems.Mapping(node, path, KindKeys);
        if (fields is null)
        {
            return null;
        }

        var before = problems.Count;
        var rules = new List<(InterfaceRule Rule, string Path)>();
        var items = fields.List("interfaces", "a list of rules { vendor, linux, offset, first }");
        for (var i = 0; i < (items?.Children.Count ?? 0); i++)
        {
            var rulePath = YamlProblems.Index(fields.PathOf("interfaces"), i);
            if (ReadRule(items!.Children[i], rulePath, problems) is { } rule)
            {
                rules.Add((rule, rulePath));
            }
        }

        CheckShapes(rules, problems);
        var linuxNames = fields.OneOf("linux_names", LinuxNamesValues);
        if (string.Equals(linuxNames, "mapped", StringComparison.Ordinal) && (items?.Children.Count ?? 0) == 0)
        {
            problems.Add(fields.PathOf("linux_names"), "'mapped' with no interfaces rules would accept no name at all; add rules or write 'any'");
        }

        if (problems.Count > before)
        {
            return null;
        }

        bool? any = linuxNames switch
        {
            "any" => true,
            "mapped" => false,
            _ => null,
        };
        return new InterfaceProfile(kind, rules.Select(r => r.Rule), any);
    }

    private static InterfaceRule? ReadRule(DefinitionNode node, string path, YamlProblems problems)
    {
        var fields = problems.Mapping(node, path, RuleKeys);
        if (fields is null)
        {
            return null;
        }

        var hasVendor = fields.Require("vendor", "the vendor name pattern, Ethernet{n}");
        var hasLinux = fields.Require("linux", "the Linux form, eth{n}");
        var vendor = fields.String("vendor");
        var linux = fields.String("linux");
        var offset = fields.Integer("offset", -InterfaceRule.MaxNumber, InterfaceRule.MaxNumber);
        var first = fields.Integer("first", 0, InterfaceRule.MaxNumber);
        if (!hasVendor || !hasLinux || vendor is null || linux is null
            || (fields.Has("offset") && offset is null) || (fields.Has("first") && first is null))
        {
            return null;
        }

        if (!InterfaceRule.TryCreate(vendor, linux, (int)(offset ?? 0), (int)(first ?? 0), out var rule, out var error, out var field))
        {
            var at = fields.Has(field) ? fields.PathOf(field) : fields.PathOf("vendor");
            problems.Add(at, error);
            return null;
        }

        return rule;
    }

    /// <summary>Two rules whose vendor patterns read the same names (the second would never be used), and a vendor
    /// pattern that reads the same names as a Linux form (a name would be both).</summary>
    private static void CheckShapes(List<(InterfaceRule Rule, string Path)> rules, YamlProblems problems)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            var (rule, path) = rules[i];
            var vendorPath = YamlProblems.Join(path, "vendor");
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(rules[j].Rule.VendorShape, rule.VendorShape, StringComparison.Ordinal))
                {
                    var other = YamlProblems.Join(rules[j].Path, "vendor");
                    problems.Add(vendorPath, $"reads the same names as {other} ({problems.LineOf(other)}), which is tried first: this rule would never be used");
                }
            }

            for (var j = 0; j < rules.Count; j++)
            {
                var identity = i == j && rule.Offset == 0 && string.Equals(rule.Vendor, rule.Linux, StringComparison.Ordinal);
                if (!identity && string.Equals(rules[j].Rule.LinuxShape, rule.VendorShape, StringComparison.Ordinal))
                {
                    var other = YamlProblems.Join(rules[j].Path, "linux");
                    problems.Add(vendorPath, string.Create(CultureInfo.InvariantCulture,
                        $"reads the same names as the Linux form {other} ({problems.LineOf(other)}); a name must be either a vendor name or a Linux name"));
                }
            }
        }
    }
}
