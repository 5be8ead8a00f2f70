using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Labs;

/// <summary>Nodes: names, kinds, namespaces and the process each runs.</summary>
internal sealed partial class LabReader
{
    private void ReadNodes(DefinitionNode node)
    {
        const string Expected = "a mapping of node names to nodes, r1: { kind: linux }";
        if (node is not DefinitionMapping)
        {
            _problems.Add(node, "nodes", $"expected {Expected}; got {YamlProblems.Describe(node)}");
            return;
        }

        _nodesRead = true;
        var items = _problems.NamedItems(node, "nodes", Expected);
        if (items.Count == 0)
        {
            _problems.Add(node, "nodes", "a lab needs at least one node");
        }

        foreach (var (name, keyNode, value) in items)
        {
            var path = YamlProblems.Join("nodes", NameText.Printable(name));
            var draft = new NodeDraft(name, path);
            _nodes.Add(draft);
            _nodesByName[name] = draft;
            if (!LabNames.IsNodeName(name, out var why))
            {
                _problems.Add(keyNode.Start, $"{path}: invalid node name {NameText.Quote(name)}: {why}; allowed: 1-{LabNames.MaxNodeNameLength} lowercase ASCII letters, digits, '_' and '-', starting with a letter or digit");
            }

            if (YamlProblems.IsNull(value))
            {
                _problems.Add(keyNode.Start, $"{path}.kind: required (the device kind: {string.Join(", ", _profiles.KnownKinds)})");
                continue;
            }

            ReadNode(value, draft);
        }
    }

    private void ReadNode(DefinitionNode node, NodeDraft draft)
    {
        var fields = _problems.Mapping(node, draft.Path, LabLoader.NodeKeys);
        if (fields is null)
        {
            return;
        }

        if (fields.Require("kind", $"the device kind: {string.Join(", ", _profiles.KnownKinds)}") && fields.String("kind") is { } kind)
        {
            if (_profiles.TryGet(kind, out _))
            {
                draft.Kind = kind;
            }
            else
            {
                _problems.Add(fields.PathOf("kind"), _profiles.UnknownKind(kind));
            }
        }

        if (fields.String("namespace") is { } ns)
        {
            if (NamespaceNameRule.IsValid(ns, out var why))
            {
                draft.Namespace = ns;
            }
            else
            {
                _problems.Add(fields.PathOf("namespace"), why);
            }
        }

        draft.Exec = Exec(fields);
        ReadHost(fields, draft);
    }

    private List<string> Exec(Fields fields)
    {
        var args = new List<string>();
        var value = fields.Value("exec");
        var path = fields.PathOf("exec");
        switch (value)
        {
            case null:
                return args;
            case DefinitionScalar scalar:
                _problems.Add(value, path, $"expected a list of strings, [\"sleep\", \"infinity\"]; got {NameText.Quote(scalar.Value)} (a single string is not split into words)");
                return args;
            case not DefinitionList:
                _problems.Add(value, path, $"expected a list of strings, [\"sleep\", \"infinity\"]; got {YamlProblems.Describe(value)}");
                return args;
        }

        var items = ((DefinitionList)value).Children;
        if (items.Count == 0)
        {
            _problems.Add(value, path, "an empty list runs nothing; leave exec out for a node without a process");
            return args;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var itemPath = YamlProblems.Index(path, i);
            if (item is not DefinitionScalar { Value: { } text } || YamlProblems.IsNull(item))
            {
                _problems.Add(item, itemPath, $"expected a string; got {YamlProblems.Describe(item)}");
                continue;
            }

            if (text.Contains('\0', StringComparison.Ordinal))
            {
                _problems.Add(item, itemPath, "contains NUL, which no command argument can hold");
                continue;
            }

            if (i == 0 && text.Length == 0)
            {
                _problems.Add(item, itemPath, "the program to run is empty");
                continue;
            }

            args.Add(text);
        }

        return args;
    }
}
