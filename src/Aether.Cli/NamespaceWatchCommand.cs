using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aether.Netlink.Namespaces;

namespace Aether.Cli;

/// <summary>One line of <c>ns watch</c>: an existing namespace (<c>exists</c>), the end of the listing (<c>ready</c>),
/// or an event (<c>created</c>, <c>deleted</c>, <c>directoryCreated</c>, <c>directoryRemoved</c>).</summary>
internal sealed record JsonWatchLine(string Event, string Time, string? Name, string? Path, ulong? Inode, IReadOnlyList<int>? Pids, bool? DirectoryExists);

/// <summary>A namespace as <c>ns list --all -o json</c> prints it.</summary>
internal sealed record JsonNamespaceDetail(string? Name, string Path, ulong Inode, IReadOnlyList<int> Pids);

/// <summary>The JSON of <c>ns watch</c> and <c>ns list --all</c>, generated at build time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JsonWatchLine))]
[JsonSerializable(typeof(List<JsonNamespaceDetail>))]
internal sealed partial class WatchJson : JsonSerializerContext
{
    /// <summary>The context with readable non-ASCII.</summary>
    public static WatchJson Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary><c>ns watch</c> and <c>ns list --all</c>: namespace discovery from the command line.</summary>
internal static class NamespaceWatchCommand
{
    /// <summary>The <c>--all</c> option of <c>ns list</c>.</summary>
    public static Option<bool> AllOption(string what) => new("--all", "-a") { Description = what };

    public static Command Create()
    {
        var dir = new Option<string>("--dir")
        {
            Description = "The directory of named namespaces (default /run/netns). It need not exist yet.",
            DefaultValueFactory = _ => NetworkNamespace.RunDirectory,
            HelpName = "DIR",
        };
        var all = AllOption("Also report unnamed namespaces: held by processes (with their pids) or bind-mounted elsewhere.");
        var rescan = new Option<string>("--rescan")
        {
            Description = "How often everything is re-read as a safety net (default 30s).",
            DefaultValueFactory = _ => "30s",
            HelpName = "DURATION",
        };
        rescan.Validators.Add(result =>
        {
            if (!Duration.TryParse(result.GetValueOrDefault<string>(), out _, out var error))
            {
                result.AddError(error!);
            }
        });
        var command = new Command("watch", """
            Print namespaces as they come and go, one JSON object a line, flushed at once: first one "exists" line per
            namespace there now and a "ready" line, then "created", "deleted", "directoryCreated" and
            "directoryRemoved" as they happen. A namespace is reported once it can be used (ip netns add creates the
            entry a moment before it mounts the namespace on it), with its inode: one deleted and re-created under the
            same name has a new inode. Runs until SIGINT or SIGTERM (exit 0).

            Examples:
              aether ns watch
              aether ns watch --all --rescan 10s
            """)
        {
            dir,
            all,
            rescan,
        };
        command.SetAction(parse =>
        {
            _ = Duration.TryParse(parse.GetValue(rescan), out var period, out _);
            var options = new NamespaceWatcherOptions { Directory = parse.GetValue(dir)!, IncludeUnnamed = parse.GetValue(all), RescanInterval = period };
            return TopologyCommands.Guard(() => WatchAsync(options));
        });
        return command;
    }

    /// <summary><c>ns list --all</c>: named and unnamed namespaces with their inodes and the pids in them.</summary>
    public static int ListAll(bool json)
    {
        var namespaces = NamespaceWatcher.Scan(new NamespaceWatcherOptions { IncludeUnnamed = true });
        if (json)
        {
            Output.Line(JsonSerializer.Serialize([.. namespaces.Select(n => new JsonNamespaceDetail(n.Name, n.Path, n.Inode, n.Pids))], WatchJson.Readable.ListJsonNamespaceDetail));
            return ExitCodes.Ok;
        }

        foreach (var n in namespaces)
        {
            var pids = n.Pids.Count == 0 ? "-" : string.Join(',', n.Pids);
            Output.Line(string.Create(CultureInfo.InvariantCulture, $"{n.Name ?? "(unnamed)",-24} inode {n.Inode,-12} pids {pids,-16} {n.Path}"));
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> WatchAsync(NamespaceWatcherOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            Output.Fail(e.Message.Split(" (Parameter", 2)[0]);
            return ExitCodes.InvalidInput;
        }

        using var stop = StopSignals.Listen();
        using var watcher = NamespaceWatcher.ListAndWatch(options);
        foreach (var ns in watcher.Initial)
        {
            Print(new JsonWatchLine("exists", Now(), ns.Name, ns.Path, ns.Inode, Pids(ns.Pids), null));
        }

        Print(new JsonWatchLine("ready", Now(), null, watcher.Directory, null, null, watcher.DirectoryExisted));
        try
        {
            await foreach (var e in watcher.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                var kind = e.Kind switch
                {
                    NamespaceEventKind.Created => "created",
                    NamespaceEventKind.Deleted => "deleted",
                    NamespaceEventKind.DirectoryCreated => "directoryCreated",
                    _ => "directoryRemoved",
                };
                var directory = e.Kind is NamespaceEventKind.DirectoryCreated or NamespaceEventKind.DirectoryRemoved;
                Print(new JsonWatchLine(kind, Now(), e.Name, e.Path, directory ? null : e.Inode, Pids(e.Pids), null));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        return ExitCodes.Ok;
    }

    private static IReadOnlyList<int>? Pids(IReadOnlyList<int> pids) => pids.Count == 0 ? null : pids;

    private static string Now() => DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static void Print(JsonWatchLine line) => Output.Line(JsonSerializer.Serialize(line, WatchJson.Readable.JsonWatchLine));
}
