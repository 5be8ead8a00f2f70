using System.Globalization;
using System.Net.Sockets;
using Aether.Netlink;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Aether.Netlink.Rtnl;
using YamlDotNet.Core;

namespace Aether.Topology;

/// <summary>
/// Turns the YAML of a topology file into a <see cref="TopologySpec"/>: first each item on its own (keys, types,
/// names, addresses, kind-specific fields), then the file as a whole (duplicates, references between items).
/// Problems go to <see cref="TopologyErrors"/>; the spec is built only when there are none.
/// </summary>
internal sealed partial class TopologyReader
{
    private const string Host = "the host namespace";

    private readonly TopologyErrors _errors;
    private readonly List<NamespaceDraft> _namespaces = [];
    private readonly List<LinkDraft> _links = [];
    private readonly List<RouteDraft> _routes = [];
    private readonly HashSet<string> _declaredNamespaces = new(StringComparer.Ordinal);

    private TopologyReader(TopologyErrors errors) => _errors = errors;

    /// <summary>Reads <paramref name="yaml"/>; null when anything was reported.</summary>
    public static TopologySpec? Read(string yaml, TopologyErrors errors, string? baseDirectory = null)
    {
        IReadOnlyList<DefinitionNode> documents;
        try
        {
            documents = DefinitionTree.Load(yaml, () => DefinitionFile.Guard(new Parser(new StringReader(yaml))));
        }
        catch (DefinitionLimitException e)
        {
            errors.Add(e.Start, e.Limit);
            return null;
        }
        catch (YamlException e)
        {
            errors.Add(e.Start, $"not valid YAML: {YamlMessage(e)}");
            return null;
        }
        catch (ArgumentException e)
        {
            // YamlDotNet's model refuses some event sequences with this ("the current event is of an unsupported
            // type"; seen once by the HTTP fuzzer on a lab body): the file's fault, without a position.
            errors.Add(Mark.Empty, $"not valid YAML: {e.Message}");
            return null;
        }

        if (documents.Count == 0 || TopologyErrors.IsNull(documents[0]))
        {
            errors.Add(Mark.Empty, $"the file is empty; a topology is a mapping with keys {string.Join(", ", TopologyLoader.RootKeys)} (name is required)");
            return null;
        }

        for (var i = 1; i < documents.Count; i++)
        {
            errors.Add(documents[i].Start, "only one YAML document is allowed per file (remove the extra '---')");
        }

        var root = documents[0];
        if (root is not DefinitionMapping)
        {
            errors.Add(root.Start, $"the top level must be a mapping with keys {string.Join(", ", TopologyLoader.RootKeys)}; got {TopologyErrors.Describe(root)}");
            return null;
        }

        return new TopologyReader(errors) { _baseDirectory = baseDirectory }.ReadRoot(root);
    }

    /// <summary>YamlDotNet's message without its own position prefix (the error carries the position).</summary>
    private static string YamlMessage(YamlException e)
    {
        var message = e.Message;
        var at = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && at >= 0 ? message[(at + 3)..] : message;
    }

    private TopologySpec? ReadRoot(DefinitionNode root)
    {
        var fields = _errors.Mapping(root, "", TopologyLoader.RootKeys)!;
        var name = fields.String("name");
        if (fields.Require("name", "the topology's owner name"))
        {
            CheckOwnerName(fields, name);
        }

        var namespaces = fields.List("namespaces");
        for (var i = 0; i < namespaces.Count; i++)
        {
            ReadNamespace(namespaces[i], TopologyErrors.Index("namespaces", i));
        }

        var links = fields.List("links");
        for (var i = 0; i < links.Count; i++)
        {
            ReadLink(links[i], TopologyErrors.Index("links", i));
        }

        var routes = fields.List("routes");
        for (var i = 0; i < routes.Count; i++)
        {
            ReadRoute(routes[i], TopologyErrors.Index("routes", i));
        }

        CheckNamespaces();
        CheckLinks();
        CheckKernelLimits();
        CheckWireGuard();
        CheckRoutes();

        if (_errors.Count > 0 || name is null)
        {
            return null;
        }

        return Build(name);
    }

    /// <summary>The spec, from drafts that are all valid.</summary>
    private TopologySpec Build(string name)
    {
        var namespaces = new TopologyNamespace[_namespaces.Count];
        for (var i = 0; i < namespaces.Length; i++)
        {
            namespaces[i] = new TopologyNamespace(_namespaces[i].Name!) { Sysctls = _namespaces[i].Sysctls, Nat = _namespaces[i].Nat };
        }

        var links = new TopologyLink[_links.Count];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = _links[i].Build();
        }

        var routes = new TopologyRoute[_routes.Count];
        for (var i = 0; i < routes.Length; i++)
        {
            routes[i] = _routes[i].Build();
        }

        return new TopologySpec(name) { Namespaces = namespaces, Links = links, Routes = routes };
    }

    private void CheckOwnerName(Fields fields, string? name)
    {
        if (name is null)
        {
            return;
        }

        var why = name switch
        {
            "" => "empty",
            { Length: > TopologyLoader.MaxNameLength } => string.Create(CultureInfo.InvariantCulture, $"{name.Length} characters, the limit is {TopologyLoader.MaxNameLength}"),
            _ when !IsOwnerStart(name[0]) => "must start with a lowercase letter or digit",
            _ when !name.All(c => IsOwnerStart(c) || c is '_' or '.' or '-') => "may hold only lowercase letters, digits, '_', '.' and '-'",
            _ => null,
        };
        if (why is not null)
        {
            _errors.Add(fields.PathOf("name"), $"invalid topology name {NameText.Quote(name)}: {why}; allowed: 1-{TopologyLoader.MaxNameLength} lowercase ASCII letters, digits, '_', '.' and '-', starting with a letter or digit");
        }

        static bool IsOwnerStart(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
    }
}
