using System.CommandLine;
using System.Globalization;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Aether.Reconcile;
using Aether.Topology;
using Spectre.Console;

namespace Aether.Cli;

/// <summary><c>apply</c>, <c>diff</c>, <c>destroy</c> and <c>run</c>: a topology file against the kernel.</summary>
internal static class TopologyCommands
{
    /// <summary>Plans with more objects than this show a progress bar on a terminal.</summary>
    private const int ProgressThreshold = 20;

    public static Command Apply(Option<string?> stateDir)
    {
        var file = FileOption();
        var output = OutputOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan and touch nothing." };
        var command = new Command("apply", """
            Make the kernel match a topology file: create what is missing, repair what drifted, and refuse (changing
            nothing) when an object that is not ours stands where ours should be. Prints one line per object
            (+ create, ~ change, - delete, = in sync, ! conflict) and a summary.
            Exit codes: 0 converged, 1 kernel or runtime failure or conflict, 2 invalid input (nothing touched).

            Examples:
              aether apply -f topo.yaml
              aether apply -f topo.yaml --dry-run
              aether apply -f topo.yaml -o json
            """)
        {
            file,
            dryRun,
            output,
        };
        command.SetAction((parse, ct) => Guard(() => ApplyAsync(parse.GetRequiredValue(file), parse.GetValue(dryRun), IsJson(parse, output), parse.GetValue(stateDir), ct)));
        return command;
    }

    public static Command Diff(Option<string?> stateDir)
    {
        var file = FileOption();
        var output = OutputOption();
        var command = new Command("diff", """
            Show what apply would do, touching nothing.
            Exit codes: 0 in sync, 3 changes pending (conflicts included), 1 failure, 2 invalid input.

            Examples:
              aether diff -f topo.yaml
              aether diff -f topo.yaml -o json
            """)
        {
            file,
            output,
        };
        command.SetAction((parse, ct) => Guard(() => DiffAsync(parse.GetRequiredValue(file), IsJson(parse, output), parse.GetValue(stateDir), ct)));
        return command;
    }

    public static Command Destroy(Option<string?> stateDir)
    {
        var file = FileOption();
        var output = OutputOption();
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the namespaces are unmounted and everything else removed, without waiting for the kernel to remove the host ends of veths into them (it does so in the background; about 0.5 s after the last of 1000)." };
        var command = new Command("destroy", """
            Remove everything the topology owns, and nothing else: namespaces it created (with everything in them),
            links carrying its mark, and the addresses, routes and sysctls it recorded. Done when nothing of it is
            left, the host ends of veths into the deleted namespaces too (the kernel removes those in the background
            after the namespaces are unmounted; --no-wait returns without waiting for them).
            Exit codes: 0 done, 1 failure, 2 invalid input.

            Example:
              aether destroy -f topo.yaml
            """)
        {
            file,
            output,
            noWait,
        };
        command.SetAction((parse, ct) => Guard(() => DestroyAsync(parse.GetRequiredValue(file), IsJson(parse, output), parse.GetValue(stateDir), !parse.GetValue(noWait), ct)));
        return command;
    }

    public static Command Run(Option<string?> stateDir)
    {
        var file = FileOption();
        var resync = new Option<string>("--resync")
        {
            Description = "How often every object is checked even without kernel events (500ms, 30s, 2m).",
            DefaultValueFactory = _ => "30s",
        };
        resync.Validators.Add(r =>
        {
            if (!Duration.TryParse(r.GetValueOrDefault<string>(), out _, out var why))
            {
                r.AddError("--resync: " + why);
            }
        });
        var monitorBuffer = new Option<string?>("--monitor-buffer")
        {
            Description = "The receive buffer in bytes of each namespace's kernel-event monitor (default: the kernel's, net.core.rmem_default). A small one drops events under a burst; the loop then checks everything.",
            HelpName = "BYTES",
        };
        monitorBuffer.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && MonitorBuffer(text) is null)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"--monitor-buffer: '{text}' is not a whole number of bytes from {MinMonitorBuffer} to {MaxMonitorBuffer}"));
            }
        });
        var command = new Command("run", """
            Apply, then keep the topology converged until SIGINT or SIGTERM: kernel events wake a repair at once,
            and a resync checks everything periodically. Every repair is printed with a timestamp.
            Exit codes: 0 stopped by a signal, 1 failure, 2 invalid input.

            Example:
              aether run -f topo.yaml --resync 10s
            """)
        {
            file,
            resync,
            monitorBuffer,
        };
        command.SetAction((parse, unused) =>
        {
            _ = Duration.TryParse(parse.GetValue(resync), out var period, out _);
            var options = Options(parse.GetValue(stateDir)) with { MonitorReceiveBufferSize = parse.GetValue(monitorBuffer) is { } text ? MonitorBuffer(text) : null };
            return Guard(() => RunAsync(parse.GetRequiredValue(file), period, options));
        });
        return command;
    }

    /// <summary>Runs a command body: an unexpected exception is a runtime failure, said in one line.</summary>
    internal static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Output.Fail("cancelled");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            Output.Fail(e.Message);
            return ExitCodes.Failure;
        }
    }

    private static Option<string> FileOption() => new("--file", "-f")
    {
        Description = "The topology file (YAML).",
        Required = true,
        HelpName = "FILE",
    };

    private static Option<string> OutputOption() => Output.FormatOption("text (one line per object and a summary) or json (one object).");

    private static bool IsJson(ParseResult parse, Option<string> output) => string.Equals(parse.GetValue(output), "json", StringComparison.Ordinal);

    private static ControllerOptions Options(string? stateDir) =>
        stateDir is { Length: > 0 } ? new ControllerOptions { StateDirectory = stateDir } : new ControllerOptions();

    /// <summary>The valid topology, or null after printing every problem to stderr (and, with <c>-o json</c>, as one
    /// JSON object on stdout: <c>{"command", "valid": false, "errors": [{file, line, column, message}]}</c>).</summary>
    private static TopologySpec? Load(string path, string? command = null, bool json = false)
    {
        PhaseTimings.End("start");
        DescriptorLimit.EnsureAtLeast(1 << 19); // an apply holds each namespace's descriptor and sockets up to a third of the limit
        var loaded = TopologyInput.Load(path);
        PhaseTimings.End("load file");
        if (loaded.IsValid)
        {
            return loaded.Topology;
        }

        foreach (var error in loaded.Errors)
        {
            Console.Error.WriteLine(NameText.Printable(error.ToString()));
        }

        if (json)
        {
            var errors = loaded.Errors.Count > 0 ? loaded.Errors : [new TopologyError(path, 1, 1, "invalid topology")];
            Output.Line(Output.Json(command ?? "load", errors));
        }

        if (loaded.Errors.Count == 0)
        {
            Output.Fail(path + ": invalid topology");
        }

        return null;
    }

    private static async Task<int> ApplyAsync(string path, bool dryRun, bool json, string? stateDir, CancellationToken ct)
    {
        if (Load(path, dryRun ? "apply --dry-run" : "apply", json) is not { } topology)
        {
            return ExitCodes.InvalidInput;
        }

        var controller = new TopologyController(topology, Options(stateDir));
        if (dryRun)
        {
            var plan = await controller.PlanAsync(ct).ConfigureAwait(false);
            Print("apply --dry-run", topology, plan, Verb.Plan, json, printed: 0);
            return plan.Conflicts > 0 ? ConflictFailure(plan) : ExitCodes.Ok;
        }

        using var held = TopologyLock.Acquire(topology.Name, ct);
        var planned = await controller.PlanAsync(ct).ConfigureAwait(false); // under the lock: nobody applies meanwhile
        PhaseTimings.End("plan");
        var result = await WithProgressAsync(controller, topology, Verb.Apply, json, planned.Lines.Count, (c, p) => c.ApplyAsync(planned, p, ct), ct).ConfigureAwait(false);
        PhaseTimings.End("apply: close");
        var code = Finish(result, Verb.Apply, json);
        PhaseTimings.End("summary");
        return code;
    }

    private static async Task<int> DiffAsync(string path, bool json, string? stateDir, CancellationToken ct)
    {
        if (Load(path, "diff", json) is not { } topology)
        {
            return ExitCodes.InvalidInput;
        }

        var plan = await new TopologyController(topology, Options(stateDir)).PlanAsync(ct).ConfigureAwait(false);
        Print("diff", topology, plan, Verb.Plan, json, printed: 0);
        if (plan.Error is not null)
        {
            Output.Fail(plan.Error);
            return ExitCodes.Failure;
        }

        return plan.InSync ? ExitCodes.Ok : ExitCodes.Pending;
    }

    private static async Task<int> DestroyAsync(string path, bool json, string? stateDir, bool wait, CancellationToken ct)
    {
        if (Load(path, "destroy", json) is not { } topology)
        {
            return ExitCodes.InvalidInput;
        }

        using var held = TopologyLock.Acquire(topology.Name, ct);
        var controller = new TopologyController(topology, Options(stateDir) with { AwaitTeardown = wait });
        var result = await WithProgressAsync(controller, topology, Verb.Destroy, json, total: null, (c, p) => c.DestroyAsync(p, ct), ct).ConfigureAwait(false);
        return Finish(result, Verb.Destroy, json);
    }

    /// <summary>The bounds of <c>run --monitor-buffer</c>: the kernel raises anything below 2304 to it anyway, and
    /// 256 MiB is far past any burst.</summary>
    private const int MinMonitorBuffer = 2304, MaxMonitorBuffer = 256 << 20;

    /// <summary>A <c>--monitor-buffer</c> value: digits only, within the bounds; null otherwise.</summary>
    private static int? MonitorBuffer(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes is >= MinMonitorBuffer and <= MaxMonitorBuffer ? bytes : null;

    private static async Task<int> RunAsync(string path, TimeSpan resync, ControllerOptions options)
    {
        if (Load(path) is not { } topology)
        {
            return ExitCodes.InvalidInput;
        }

        using var stop = StopSignals.Listen();
        TopologyLock held;
        try
        {
            held = TopologyLock.Acquire(topology.Name, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Output.Line("stopped before it started: another aether held the lock");
            return ExitCodes.Ok;
        }

        using var _ = held;
        var controller = new TopologyController(topology, options);
        try
        {
            var first = await controller.ApplyAsync(new LineProgress(l => Output.Line(l.ToString())), stop.Token).ConfigureAwait(false);
            if (first.Lines.Count > 0 && first.Error is not null && first.Conflicts > 0)
            {
                foreach (var line in first.Lines)
                {
                    Output.Line(line.ToString());
                }
            }

            Output.Line(Output.Summary(first, Verb.Apply));
            if (first.Error is not null)
            {
                Output.Fail(first.Error + " (the loops keep retrying)");
            }

            Output.Line(string.Create(CultureInfo.InvariantCulture, $"running: {topology.Name}, resync every {Format(resync)}; SIGINT or SIGTERM stops"));
            await controller.RunAsync(new ReconcileLoopOptions { Resync = resync }, Report, ReportChange, loggers: null, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A signal during the first apply: leave as asked.
        }

        Output.Line("stopped");
        return ExitCodes.Ok;
    }

    private static string Format(TimeSpan span) => span.TotalSeconds >= 1 && span.Milliseconds == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalSeconds}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalMilliseconds}ms");

    /// <summary>One line per thing the runtime did about a namespace (and per object a repair made): timestamp, then
    /// the change line.</summary>
    private static void ReportChange(ChangeLine line) =>
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.Now:yyyy-MM-ddTHH:mm:ss.fffzzz} [runtime] {line}"));

    /// <summary>One line per pass that did (or failed to do) something: timestamp, source, outcome, operations.</summary>
    private static void Report(PassReport report)
    {
        if (report.Outcome == PassOutcome.InSync)
        {
            return;
        }

        var ops = report.Applied.Count > 0 ? report.Applied : report.Drift;
        var what = ops.Count == 0 ? string.Empty : ": " + string.Join("; ", ops.Select(op => op.ToString()));
        var error = report.Error is null ? string.Empty : " error: " + report.Error;
        Output.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"{report.Started.ToLocalTime():yyyy-MM-ddTHH:mm:ss.fffzzz} [{report.Source}] {report.Outcome.ToString().ToLowerInvariant()} in {(long)report.Duration.TotalMilliseconds} ms{what}{error}"));
    }

    private static int ConflictFailure(TopologyResult plan)
    {
        Output.Fail($"{plan.Conflicts} conflict(s) with objects that are not ours: apply would change nothing");
        return ExitCodes.Failure;
    }

    private static int Finish(TopologyResult result, Verb verb, bool json)
    {
        if (!json)
        {
            Output.Line(Output.Summary(result, verb));
        }

        if (result.Error is not null)
        {
            Output.Fail(result.Error);
            return ExitCodes.Failure;
        }

        return ExitCodes.Ok;
    }

    /// <summary>Prints a result's lines (those not already streamed) and, for plans, the summary; JSON prints one object.</summary>
    private static void Print(string command, TopologySpec topology, TopologyResult result, Verb verb, bool json, int printed)
    {
        if (json)
        {
            Output.Line(Output.Json(command, topology.Name, result));
            return;
        }

        foreach (var line in result.Lines.Skip(printed))
        {
            Output.StreamLine(line.ToString());
        }

        if (verb == Verb.Plan)
        {
            Output.Line(Output.Summary(result, verb));
        }

        Output.Flush();
    }

    /// <summary>Runs apply or destroy: lines stream to stdout as they happen; on a terminal, a plan of more than
    /// <see cref="ProgressThreshold"/> objects shows a progress bar instead and the lines follow it.</summary>
    private static async Task<TopologyResult> WithProgressAsync(
        TopologyController controller,
        TopologySpec topology,
        Verb verb,
        bool json,
        int? total,
        Func<TopologyController, IProgress<ChangeLine>, Task<TopologyResult>> work,
        CancellationToken ct)
    {
        var printed = 0;
        TopologyResult result;
        var (command, label) = verb == Verb.Destroy ? ("destroy", "destroying") : ("apply", "applying");
        if (!json && !Console.IsOutputRedirected && (total ?? (await controller.PlanAsync(ct).ConfigureAwait(false)).Lines.Count) is var count && count > ProgressThreshold)
        {
            result = null!;
            await AnsiConsole.Progress()
                .AutoClear(true)
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(label, maxValue: count);
                    result = await work(controller, new LineProgress(_ => task.Increment(1))).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
        }
        else if (json)
        {
            result = await work(controller, new LineProgress(_ => { })).ConfigureAwait(false);
        }
        else
        {
            result = await work(controller, new LineProgress(line =>
            {
                Output.StreamLine(line.ToString());
                printed++;
            })).ConfigureAwait(false);
        }

        Print(command, topology, result, verb, json, printed);
        return result;
    }

    /// <summary>Reports synchronously, on the reporting thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
    private sealed class LineProgress(Action<ChangeLine> onLine) : IProgress<ChangeLine>
    {
        public void Report(ChangeLine value) => onLine(value);
    }
}
