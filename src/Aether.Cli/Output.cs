using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aether.Netlink.Names;
using Aether.Topology;

namespace Aether.Cli;

/// <summary>One change line as JSON.</summary>
internal sealed record JsonLine(string Change, string Object, string? Namespace, string? Reason);

/// <summary>A plan, apply or destroy result as JSON.</summary>
internal sealed record JsonResult(
    string Command,
    string Topology,
    bool InSync,
    int Created,
    int Changed,
    int Deleted,
    int Unchanged,
    int Conflicts,
    long ElapsedMs,
    string? Error,
    IReadOnlyList<JsonLine> Lines);

/// <summary>A problem in a topology file as JSON.</summary>
internal sealed record JsonError(string File, int Line, int Column, string Message);

/// <summary>An invalid topology file as JSON: nothing was touched.</summary>
internal sealed record JsonInvalid(string Command, bool Valid, IReadOnlyList<JsonError> Errors);

/// <summary>A namespace as <c>ns list -o json</c> prints it.</summary>
internal sealed record JsonNamespace(string Name);

/// <summary>The JSON the CLI prints, generated at build time (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JsonResult))]
[JsonSerializable(typeof(JsonInvalid))]
[JsonSerializable(typeof(List<JsonNamespace>))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>The context with readable non-ASCII (<c>↔</c> stays <c>↔</c>).</summary>
    public static CliJson Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>What the command did, as text or JSON.</summary>
internal enum Verb
{
    /// <summary><c>apply</c>.</summary>
    Apply,

    /// <summary><c>apply --dry-run</c> and <c>diff</c>.</summary>
    Plan,

    /// <summary><c>destroy</c>.</summary>
    Destroy,
}

/// <summary>Prints results.</summary>
internal static class Output
{
    /// <summary>The <c>-o</c>/<c>--output</c> option, text by default or json; <paramref name="description"/> says
    /// what each prints for the command.</summary>
    public static System.CommandLine.Option<string> FormatOption(string description)
    {
        var option = new System.CommandLine.Option<string>("--output", "-o")
        {
            Description = description,
            DefaultValueFactory = _ => "text",
            HelpName = "text|json",
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    /// <summary>The one-line summary: <c>applied: 3 created, 1 changed, 0 deleted, 5 in sync in 42 ms</c>.</summary>
    public static string Summary(TopologyResult result, Verb verb)
    {
        var ms = (long)result.Elapsed.TotalMilliseconds;
        var conflicts = result.Conflicts > 0 ? string.Create(CultureInfo.InvariantCulture, $", {result.Conflicts} conflict(s)") : string.Empty;
        if (result.Error is null && result.InSync && verb != Verb.Destroy)
        {
            return string.Create(CultureInfo.InvariantCulture, $"in sync: nothing to do ({result.Lines.Count} objects, {ms} ms)");
        }

        return verb switch
        {
            Verb.Plan => string.Create(CultureInfo.InvariantCulture, $"plan: {result.Created} to create, {result.Changed} to change, {result.Deleted} to delete, {result.Unchanged} in sync{conflicts} ({ms} ms)"),
            Verb.Destroy when result.Error is null && result.Lines.Count == 0 => string.Create(CultureInfo.InvariantCulture, $"destroyed: nothing to destroy ({ms} ms)"),
            Verb.Destroy => string.Create(CultureInfo.InvariantCulture, $"{(result.Error is null ? "destroyed" : "failed")}: {result.Deleted} deleted, {result.Changed} changed{(result.Left > 0 ? $", {result.Left} left" : string.Empty)} in {ms} ms"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{(result.Error is null ? "applied" : "failed")}: {result.Created} created, {result.Changed} changed, {result.Deleted} deleted, {result.Unchanged} in sync{conflicts} in {ms} ms"),
        };
    }

    /// <summary>The result as one JSON object.</summary>
    public static string Json(string command, string topology, TopologyResult result) =>
        JsonSerializer.Serialize(
            new JsonResult(
                command,
                topology,
                result.InSync,
                result.Created,
                result.Changed,
                result.Deleted,
                result.Unchanged,
                result.Conflicts,
                (long)result.Elapsed.TotalMilliseconds,
                result.Error,
                [.. result.Lines.Select(l => new JsonLine(l.Symbol.ToString(), l.Subject, l.Namespace, l.Reason))]),
            CliJson.Readable.JsonResult);

    /// <summary>The problems of an invalid topology file as one JSON object.</summary>
    public static string Json(string command, IEnumerable<TopologyError> errors) =>
        JsonSerializer.Serialize(new JsonInvalid(command, false, [.. errors.Select(e => new JsonError(e.File, e.Line, e.Column, e.Message))]), CliJson.Readable.JsonInvalid);

    /// <summary>Prints the namespaces.</summary>
    public static string Json(IEnumerable<string> namespaces) =>
        JsonSerializer.Serialize([.. namespaces.Select(n => new JsonNamespace(n))], CliJson.Readable.ListJsonNamespace);

    private static readonly TextWriter Stdout = Console.IsOutputRedirected
        ? TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 64 * 1024) { AutoFlush = false })
        : Console.Out;

    private static long _lastFlush;

    /// <summary>Writes a line to stdout and flushes it, any character that would act on a terminal escaped
    /// (<see cref="NameText.Printable"/>) (for <c>run</c>, whose output is read as it comes).</summary>
    public static void Line(string text)
    {
        Stdout.WriteLine(NameText.Printable(text));
        Flush();
    }

    /// <summary>Writes one of many lines (an apply's objects), escaped like <see cref="Line"/>: flushed when 50 ms have passed since the last flush,
    /// so a reader still sees them as they come, but four thousand lines cost a few writes, not four thousand. The
    /// line that ends the output (<see cref="Line"/>) flushes the rest.</summary>
    public static void StreamLine(string text)
    {
        Stdout.WriteLine(NameText.Printable(text));
        if (System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastFlush)).TotalMilliseconds >= 50)
        {
            Flush();
        }
    }

    /// <summary>Flushes what was written.</summary>
    public static void Flush()
    {
        Stdout.Flush();
        Interlocked.Exchange(ref _lastFlush, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>Writes <c>aether: MESSAGE</c> to stderr, escaped like <see cref="Line"/>.</summary>
    public static void Fail(string message)
    {
        Flush(); // what was said before the failure comes first
        Console.Error.WriteLine("aether: " + NameText.Printable(message));
    }
}
