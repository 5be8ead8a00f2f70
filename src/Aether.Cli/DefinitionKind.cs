using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Aether.Cli;

/// <summary>Tells a lab file from a topology file by its content, for commands that take either
/// (<c>aether graph</c>).</summary>
internal static class DefinitionKind
{
    /// <summary>The top-level keys only a lab has (a lab requires <c>nodes</c>; a topology allows none of
    /// these).</summary>
    private static readonly string[] LabOnlyKeys = ["nodes", "fabric", "cross_host"];

    /// <summary>
    /// Whether <paramref name="text"/> (a definition read within its size limit) is a lab: its top level is a mapping
    /// with one of <see cref="LabOnlyKeys"/>. Reads parser events only (nothing is built, aliases are not followed),
    /// up to the first such key; text that is not YAML is not a lab, so the topology loader reports what is wrong with
    /// it.
    /// </summary>
    public static bool IsLab(string text)
    {
        try
        {
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            var isKey = true;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart when depth == 0:
                        depth = 1;
                        break;
                    case SequenceStart or Scalar or AnchorAlias when depth == 0:
                        return false;
                    case Scalar scalar when depth == 1:
                        if (isKey && LabOnlyKeys.Contains(scalar.Value, StringComparer.Ordinal))
                        {
                            return true;
                        }

                        isKey = !isKey;
                        break;
                    case AnchorAlias when depth == 1:
                        isKey = !isKey;
                        break;
                    case MappingStart or SequenceStart:
                        depth++;
                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        if (depth == 0)
                        {
                            return false;
                        }

                        if (depth == 1)
                        {
                            isKey = !isKey; // a mapping or list value (or key) ended
                        }

                        break;
                }
            }
        }
        catch (YamlException)
        {
            // Not YAML: the topology loader says where.
        }

        return false;
    }
}
