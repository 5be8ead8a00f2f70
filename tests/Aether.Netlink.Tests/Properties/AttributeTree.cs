using System.Text;
using Aether.Netlink.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Aether.Netlink.Tests.Properties;

/// <summary>A model of an attribute: a leaf with a payload, or a nest (written with NLA_F_NESTED) with children.</summary>
internal sealed record AttributeNode(ushort Type, byte[]? Payload, IReadOnlyList<AttributeNode>? Children)
{
    public const int MaxDepth = 4;

    /// <summary>Leaves have type 1..0x3FFF and 0..300 payload bytes; nests hold 0..3 children, up to <see cref="MaxDepth"/> deep.</summary>
    public static Gen<AttributeNode> Generator(int depth)
    {
        var type = Gen.Choose(1, 0x3FFF).Select(t => (ushort)t);
        var leaf =
            from t in type
            from length in Gen.Frequency((3, Gen.Choose(0, 12)), (1, Gen.Choose(0, 300)))
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
            select new AttributeNode(t, bytes, null);
        if (depth >= MaxDepth)
        {
            return leaf;
        }

        var nest =
            from t in type
            from count in Gen.Choose(0, 3)
            from children in Gen.ListOf(Generator(depth + 1), count)
            select new AttributeNode(t, null, children);
        return Gen.Frequency((3, leaf), (1, nest));
    }

    public static void Write(ref NetlinkWriter writer, AttributeNode node)
    {
        if (node.Children is null)
        {
            writer.WriteAttribute(node.Type, node.Payload);
            return;
        }

        var token = writer.BeginNested((ushort)(node.Type | NetlinkWriter.NestedFlag));
        foreach (var child in node.Children)
        {
            Write(ref writer, child);
        }

        writer.EndNested(token);
    }

    /// <summary>Reads attributes back, descending into those marked NLA_F_NESTED.</summary>
    public static List<AttributeNode> Read(NetlinkAttributeEnumerator attributes)
    {
        var nodes = new List<AttributeNode>();
        foreach (var attribute in attributes)
        {
            nodes.Add(attribute.IsNestedFlagSet
                ? new AttributeNode(attribute.Type, null, Read(attribute.GetNested()))
                : new AttributeNode(attribute.Type, attribute.GetBytes(), null));
        }

        return nodes;
    }

    /// <summary>A canonical text form, so trees compare by value and failures print readably.</summary>
    public static string Describe(IEnumerable<AttributeNode> nodes)
    {
        var sb = new StringBuilder();
        foreach (var node in nodes)
        {
            sb.Append(node.Type);
            sb.Append(node.Children is null ? $"[{Convert.ToHexStringLower(node.Payload!)}]" : $"{{{Describe(node.Children)}}}");
            sb.Append(';');
        }

        return sb.ToString();
    }
}
