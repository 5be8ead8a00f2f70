using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aether.TestSupport;

/// <summary>
/// The editor schemas in <c>schema/</c> applied the way an editor applies them: a YAML file read into JSON, then
/// evaluated by a JSON Schema library (JsonSchema.Net). Plain scalars become numbers, booleans and null by the rules
/// Aether's readers use (a decimal integer with an optional sign; <c>true</c>/<c>false</c> in the three spellings
/// the readers take; <c>~</c>, <c>null</c> or nothing); every other scalar, and every quoted one, is a string.
/// </summary>
internal static class EditorSchema
{
    /// <summary>What the first line of every example says: <c># yaml-language-server: $schema=PATH</c>.</summary>
    public const string Modeline = "# yaml-language-server: $schema=";

    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);

    /// <summary>The schema in <paramref name="path"/>, built once per path (each in its own registry, so that a
    /// schema's <c>$id</c> is registered once).</summary>
    public static JsonSchema Load(string path) =>
        Schemas.GetOrAdd(Path.GetFullPath(path), p => JsonSchema.FromText(File.ReadAllText(p), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    /// <summary>The problems <paramref name="schema"/> finds in <paramref name="yaml"/> (<c>/nodes/r1/kind: ...</c>),
    /// none when it is valid. YAML that cannot be read as JSON (not YAML, a key given twice) is one problem.</summary>
    public static IReadOnlyList<string> Problems(JsonSchema schema, string yaml)
    {
        ArgumentNullException.ThrowIfNull(schema);
        JsonNode? json;
        try
        {
            json = ToJson(yaml);
        }
        catch (YamlException e)
        {
            return [$"not YAML the schema can read: {e.Message}"];
        }

        using var document = JsonDocument.Parse(json?.ToJsonString() ?? "null");
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        var problems = new List<string>();
        if (!results.IsValid)
        {
            Collect(results, problems);
        }

        return results.IsValid ? [] : problems.Count > 0 ? problems : ["invalid (the library gave no detail)"];
    }

    /// <summary>The errors of a failed evaluation node and of the children that made it fail. Skipped: a child that
    /// passed; the inside of a <c>not</c> or an <c>if</c> (its failure is no error); and the failed branches of an
    /// <c>anyOf</c> or <c>oneOf</c> that another branch satisfied. What remains is what an editor would underline.</summary>
    private static void Collect(EvaluationResults node, List<string> problems)
    {
        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            problems.Add($"{node.InstanceLocation} ({node.EvaluationPath}): {keyword}: {message}");
        }

        var children = node.Details ?? [];
        foreach (var child in children)
        {
            var path = child.EvaluationPath.ToString();
            if (child.IsValid || path.EndsWith("/not", StringComparison.Ordinal) || path.EndsWith("/if", StringComparison.Ordinal)
                || (Branch(path) is { } of && children.Any(c => c.IsValid && string.Equals(Branch(c.EvaluationPath.ToString()), of, StringComparison.Ordinal))))
            {
                continue;
            }

            Collect(child, problems);
        }
    }

    /// <summary>For the path of an <c>anyOf</c> or <c>oneOf</c> branch (<c>/anyOf/1</c>), the keyword's path
    /// (<c>/anyOf</c>); null for any other path.</summary>
    private static string? Branch(string path)
    {
        var last = path.LastIndexOf('/');
        if (last <= 0 || !int.TryParse(path.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return null;
        }

        var keyword = path[..last];
        return keyword.EndsWith("/anyOf", StringComparison.Ordinal) || keyword.EndsWith("/oneOf", StringComparison.Ordinal) ? keyword : null;
    }

    /// <summary>The one document of <paramref name="yaml"/> as JSON (null for an empty file).</summary>
    public static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? null : Node(stream.Documents[0].RootNode);
    }

    /// <summary>The path named by the modeline on <paramref name="file"/>'s first line, resolved against the file's
    /// directory; null when the first line is not one.</summary>
    public static string? SchemaOf(string file)
    {
        var first = File.ReadLines(file).FirstOrDefault() ?? "";
        return first.StartsWith(Modeline, StringComparison.Ordinal)
            ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, first[Modeline.Length..].Trim()))
            : null;
    }

    private static JsonNode? Node(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var json = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    var name = key is YamlScalarNode { Value: { } text } ? text : throw new YamlException(key.Start, key.End, "a key that is not a scalar has no JSON form");
                    json.Add(name, Node(value));
                }

                return json;
            case YamlSequenceNode sequence:
                return new JsonArray([.. sequence.Children.Select(Node)]);
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, "an unsupported node");
        }
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.Plain or ScalarStyle.Any)
        {
            if (text is "" or "~" or "null" or "Null" or "NULL")
            {
                return null;
            }

            if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
            {
                return JsonValue.Create(text[0] is 't' or 'T');
            }

            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return JsonValue.Create(number);
            }
        }

        return JsonValue.Create(text);
    }
}
