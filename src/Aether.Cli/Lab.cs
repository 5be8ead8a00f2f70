using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aether.Labs;
using Aether.Labs.Store;
using Aether.Labs.Supervision;
using Aether.Netlink.Names;
using Aether.Netlink.Namespaces;
using Aether.Topology;

namespace Aether.Cli;

/// <summary>The lab commands. Each opens the store, reads the lab (from its
/// file, or as the store keeps it by name), and runs one <see cref="LabController"/> operation.</summary>
internal static class Lab
{
    /// <summary>Runs one lab command.</summary>
    public static Task<int> RunAsync(LabArgs args, CancellationToken ct) => args.Verb switch
    {
        "deploy" => DeployAsync(args.Context, args.File!, ct),
        "destroy" => DestroyAsync(args.Context, args.File!, ct),
        "run" => RunAsync(args.Context, args.Name!, args.ReconcileEvery, ct),
        "exec" => ExecAsync(args.Context, args.Name!, args.Node!, args.Command, ct),
        _ => ByNameAsync(args.Verb, args.Context, args.Name!, args.Deep, ct),
    };

    public static async Task<int> DeployAsync(LabContext context, string path, CancellationToken ct)
    {
        if (LoadProfiles(context) is not { } profiles || Load(context, path, profiles) is not { } loaded)
        {
            return ExitCodes.InvalidInput;
        }

        if (OperatingSystem.IsLinux() && loaded.Lab.IsPlaced && LabAcrossHosts.RefuseLocal(context, loaded.Lab) is { } refused)
        {
            return refused;
        }

        await using var store = await OpenStoreAsync(context, profiles, ct).ConfigureAwait(false);
        if (OperatingSystem.IsLinux() && loaded.Lab.IsPlaced)
        {
            return await LabAcrossHosts.DeployAsync(context, loaded.Lab, loaded.Text, store, ct).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        var controller = Controller(context, loaded.Lab, store);
        if (KeptByDaemon(controller, "deploy", "POST /v1/labs"))
        {
            return ExitCodes.Failure;
        }

        var result = await controller.DeployAsync(loaded.Text, progress: null, ct).ConfigureAwait(false);
        var exit = Finish(context, "deploy", loaded.Lab.Name, result, clock.Elapsed);
        if (loaded.Lab.Nodes.Any(n => n.Exec.Count > 0) && !context.Json)
        {
            LabRunner.StartDetached(context, controller);
        }

        return exit;
    }

    public static async Task<int> DestroyAsync(LabContext context, string path, CancellationToken ct)
    {
        if (LoadProfiles(context) is not { } profiles || Load(context, path, profiles) is not { } loaded)
        {
            return ExitCodes.InvalidInput;
        }

        if (OperatingSystem.IsLinux() && loaded.Lab.IsPlaced && LabAcrossHosts.RefuseLocal(context, loaded.Lab) is { } refused)
        {
            return refused;
        }

        await using var store = await OpenStoreAsync(context, profiles, ct).ConfigureAwait(false);
        if (OperatingSystem.IsLinux() && loaded.Lab.IsPlaced)
        {
            return await LabAcrossHosts.DestroyAsync(context, loaded.Lab.Name, store, ct).ConfigureAwait(false);
        }

        var controller = Controller(context, loaded.Lab, store);
        if (KeptByDaemon(controller, "destroy", $"DELETE /v1/labs/{loaded.Lab.Name}"))
        {
            return ExitCodes.Failure;
        }

        await LabRunner.StopAsync(controller).ConfigureAwait(false); // its processes stop with it, before the nodes go
        var result = await controller.DestroyAsync(progress: null, ct).ConfigureAwait(false);
        foreach (var line in result.Lines)
        {
            Output.StreamLine(line.ToString());
        }

        if (result.Error is not null)
        {
            Output.Fail(result.Error);
            return ExitCodes.Failure;
        }

        Output.Line($"destroyed {loaded.Lab.Name}");
        return ExitCodes.Ok;
    }

    public static async Task<int> ByNameAsync(string verb, LabContext context, string name, bool deep, CancellationToken ct)
    {
        if (LoadProfiles(context) is not { } profiles)
        {
            return ExitCodes.InvalidInput;
        }

        await using var store = await OpenStoreAsync(context, profiles, ct).ConfigureAwait(false);
        if (await StoredAsync(store, name, profiles, ct).ConfigureAwait(false) is not { } lab)
        {
            return ExitCodes.Failure;
        }

        if (OperatingSystem.IsLinux() && string.Equals(verb, "tunnels", StringComparison.Ordinal))
        {
            return await LabAcrossHosts.TunnelsAsync(context, lab, ct).ConfigureAwait(false);
        }

        if (OperatingSystem.IsLinux() && lab.IsPlaced && verb is "verify" or "links" or "reconcile")
        {
            return await LabAcrossHosts.StatusAsync(context, lab, store, deep && string.Equals(verb, "verify", StringComparison.Ordinal), ct).ConfigureAwait(false); // its agents reconcile
        }

        var controller = Controller(context, lab, store);
        var clock = Stopwatch.StartNew();
        switch (verb)
        {
            case "links":
                var links = await store.GetLinksAsync(name, ct).ConfigureAwait(false);
                Print(context, "links", name, new LabResult(links, [], null), clock.Elapsed);
                return ExitCodes.Ok;
            case "inspect":
                Output.Line(Inspect(context, lab, await store.GetLinksAsync(name, ct).ConfigureAwait(false)));
                return ExitCodes.Ok;
            case "verify":
                var verified = await controller.VerifyAsync(deep, ct).ConfigureAwait(false);
                if (deep && !context.Json)
                {
                    foreach (var (id, latency) in verified.FrameLatencies)
                    {
                        Output.StreamLine(string.Create(CultureInfo.InvariantCulture, $"frame across {id}: {latency.TotalMilliseconds:F3} ms"));
                    }
                }

                return Finish(context, "verify", name, verified, clock.Elapsed);
            default:
                var reconciled = await controller.ReconcileAsync(progress: null, ct).ConfigureAwait(false);
                var counts = reconciled.Counts!;
                if (!context.Json)
                {
                    Output.Line(string.Create(CultureInfo.InvariantCulture, $"checked {counts.Checked}, valid {counts.Valid}, repaired {counts.Repaired}, errors {counts.Errors}"));
                }

                return Finish(context, "reconcile", name, reconciled, clock.Elapsed);
        }
    }

    public static async Task<int> RunAsync(LabContext context, string name, TimeSpan reconcileEvery, CancellationToken ct)
    {
        if (LoadProfiles(context) is not { } profiles)
        {
            return ExitCodes.InvalidInput;
        }

        await using var store = await OpenStoreAsync(context, profiles, ct).ConfigureAwait(false);
        if (await StoredAsync(store, name, profiles, ct).ConfigureAwait(false) is not { } lab)
        {
            return ExitCodes.Failure;
        }

        var controller = Controller(context, lab, store);
        return KeptByDaemon(controller, "run", "the daemon runs it already")
            ? ExitCodes.Failure
            : await LabRunner.RunAsync(context, controller, reconcileEvery).ConfigureAwait(false);
    }

    public static async Task<int> ExecAsync(LabContext context, string name, string node, string[] argv, CancellationToken ct)
    {
        if (LoadProfiles(context) is not { } profiles)
        {
            return ExitCodes.InvalidInput;
        }

        LabSpec? lab;
        await using (var store = await OpenStoreAsync(context, profiles, ct).ConfigureAwait(false))
        {
            lab = await StoredAsync(store, name, profiles, ct).ConfigureAwait(false);
        }

        if (lab?.Nodes.FirstOrDefault(n => string.Equals(n.Name, node, StringComparison.Ordinal)) is not { } found)
        {
            if (lab is not null)
            {
                Output.Fail($"lab {name} has no node {node} (it has {string.Join(", ", lab.Nodes.Select(n => n.Name))})");
            }

            return ExitCodes.InvalidInput;
        }

        // The child is forked from a thread inside the node's namespace, so it starts there (as `ip netns exec` does);
        // it inherits our terminal, and its exit code is ours.
        using var ns = NetworkNamespace.Open(found.Namespace);
        Output.Flush();
        using var child = ns.RunInside(static a => Process.Start(new ProcessStartInfo(a[0], a[1..]) { UseShellExecute = false })!, argv);
        await child.WaitForExitAsync(ct).ConfigureAwait(false);
        return child.ExitCode;
    }

    /// <summary>Whether the daemon keeps the lab (<see cref="LabKeeper"/>): then this command would fight its runtime
    /// (which repairs what destroy removes, and applies the lab as it was), so it refuses, having changed
    /// nothing.</summary>
    private static bool KeptByDaemon(LabController controller, string verb, string instead)
    {
        if (LabKeeper.Holder(controller.LabDirectory) is not { } pid)
        {
            return false;
        }

        Output.Fail($"lab {controller.Lab.Name} is kept by the daemon (aether serve, pid {pid}), which repairs it: {verb} it through the daemon ({instead}), or stop the daemon first; nothing was changed");
        return true;
    }

    private static LabController Controller(LabContext context, LabSpec lab, ILabStore store)
    {
        var options = context.StateDirectory is { Length: > 0 } dir ? new LabOptions { StateDirectory = dir } : new LabOptions();
        if (context.Ovsdb is { } ovsdb)
        {
            options = options with { Ovsdb = Aether.Ovsdb.OvsdbEndpoint.Parse(ovsdb) };
        }

        return new(lab, store, options with { SwitchNamespace = context.OvsNamespace });
    }

    private static InterfaceProfiles? LoadProfiles(LabContext context) => LoadProfiles(context.Profiles);

    /// <summary>The built-in profiles with <paramref name="file"/>'s (a <c>--profiles</c> argument) over them, or null
    /// (its errors printed) when the file is not valid.</summary>
    internal static InterfaceProfiles? LoadProfiles(string? file)
    {
        if (file is null)
        {
            return InterfaceProfiles.Default;
        }

        var loaded = InterfaceProfiles.LoadFile(file);
        if (loaded.Errors.Count > 0)
        {
            foreach (var error in loaded.Errors)
            {
                Console.Error.WriteLine(NameText.Printable(error.ToString()));
            }

            Output.Fail(file + ": invalid profiles");
            return null;
        }

        return loaded.Profiles;
    }

    private static (LabSpec Lab, string Text)? Load(LabContext context, string path, InterfaceProfiles profiles)
    {
        var loaded = LabLoader.Load(path, profiles);
        if (loaded.Lab is { } lab && loaded.Errors.Count == 0)
        {
            return (lab, loaded.Text!);
        }

        if (context.Json)
        {
            Output.Line(Output.Json("load", loaded.Errors.Select(e => new TopologyError(e.File, e.Line, e.Column, e.Message))));
        }

        foreach (var error in loaded.Errors)
        {
            Console.Error.WriteLine(NameText.Printable(error.ToString()));
        }

        Output.Fail(path + ": invalid lab, nothing was touched");
        return null;
    }

    /// <summary>
    /// Opens the store and brings it to the schema. A SQLite file (the default) is opened with the plain-SQL store,
    /// which starts in milliseconds where EF Core's took about half a second; a file that is not at the last migration,
    /// and PostgreSQL, go to the EF Core store, which owns the migrations: in the native build (no EF Core in it) by
    /// becoming the ReadyToRun build for this command (<c>ServeExec</c>), before anything was touched.
    /// </summary>
    private static async Task<ILabStore> OpenStoreAsync(LabContext context, InterfaceProfiles profiles, CancellationToken ct)
    {
        var state = context.StateDirectory is { Length: > 0 } dir ? dir : new LabOptions().StateDirectory;
        var database = context.Database ?? (Environment.GetEnvironmentVariable("AETHER_DB") is { Length: > 0 } env ? env : null);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("labs run on Linux");
        }

        if (SqliteLabStore.TryFile(database, state, out var file))
        {
            var sqlite = SqliteLabStore.Open(file);
            try
            {
                await sqlite.MigrateAsync(ct).ConfigureAwait(false);
                return sqlite;
            }
            catch (LabStoreSchemaException)
            {
                await sqlite.DisposeAsync().ConfigureAwait(false); // the EF Core store migrates it, below
            }
            catch
            {
                await sqlite.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

#if NATIVE_CLI
        _ = profiles;
        Environment.Exit(ServeExec.Run()); // returns only when the ReadyToRun build could not be run
        throw new UnreachableException();
#else
        var store = LabStore.Open(database, state, (kind, name) => profiles.TryToLinux(kind, name, out var linux, out _) ? linux : null);
        try
        {
            await store.MigrateAsync(ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
#endif
    }

    private static async Task<LabSpec?> StoredAsync(ILabStore store, string name, InterfaceProfiles profiles, CancellationToken ct)
    {
        if (await store.GetLabAsync(name, ct).ConfigureAwait(false) is not { } stored)
        {
            Output.Fail($"no lab named {name} in the store (deploy it first: aether lab deploy -f FILE)");
            return null;
        }

        var loaded = LabLoader.Parse(stored.Definition, stored.SourcePath ?? name, profiles);
        if (loaded.Lab is null)
        {
            Output.Fail($"lab {name}: its stored definition no longer reads: {string.Join("; ", loaded.Errors)}");
        }

        return loaded.Lab;
    }

    private static int Finish(LabContext context, string command, string lab, LabResult result, TimeSpan elapsed)
    {
        Print(context, command, lab, result, elapsed);
        if (result.Error is not null)
        {
            Output.Fail(result.Error);
        }

        return result.AllUp && result.Error is null ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static void Print(LabContext context, string command, string lab, LabResult result, TimeSpan elapsed)
    {
        if (context.Json)
        {
            Output.Line(LabJson.Links(command, lab, result));
            return;
        }

        foreach (var link in result.Links)
        {
            var state = link.Status.ToString().ToLowerInvariant();
            Output.StreamLine(link.Error is null ? $"{state,-8} {link.A} ↔ {link.B}" : $"{state,-8} {link.A} ↔ {link.B}: {link.Error}");
        }

        var up = result.Links.Count(l => l.Status == LinkStatus.Up);
        var down = result.Links.Count(l => l.Status == LinkStatus.Down);
        var errors = result.Links.Count(l => l.Status == LinkStatus.Error);
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"{lab}: {result.Links.Count} links, {up} up, {down} down, {errors} in error ({elapsed.TotalSeconds:F2} s)"));
    }

    private static string Inspect(LabContext context, LabSpec lab, IReadOnlyList<LinkState> links)
    {
        var present = Directory.Exists(NetworkNamespace.RunDirectory) ? Directory.GetFiles(NetworkNamespace.RunDirectory).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal) : [];
        var byEnd = links.SelectMany(l => new[] { (l.A.Key, l), (l.B.Key, l) }).ToDictionary(p => p.Key, p => p.l, StringComparer.Ordinal);
        var ends = lab.Links.SelectMany(l => new[] { l.A, l.B }).ToLookup(e => e.Node, StringComparer.Ordinal);
        if (context.Json)
        {
            return LabJson.Inspect(lab, present!, ends, byEnd);
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"lab {lab.Name} ({lab.Fabric.ToString().ToLowerInvariant()} fabric)\n");
        foreach (var node in lab.Nodes)
        {
            text.Append(CultureInfo.InvariantCulture, $"{node.Name}: {node.Kind}, namespace {node.Namespace}{(present.Contains(node.Namespace) ? string.Empty : " (missing)")}");
            text.Append(node.Exec.Count > 0 ? $", runs {string.Join(' ', node.Exec)}\n" : "\n");
            foreach (var end in ends[node.Name].OrderBy(e => e.Linux, StringComparer.Ordinal))
            {
                var state = byEnd.TryGetValue(end.Key, out var link) ? link.Status.ToString().ToLowerInvariant() : "unknown";
                text.Append(CultureInfo.InvariantCulture, $"  {end.Vendor,-24} {end.Linux,-15} {state}\n");
            }
        }

        return text.ToString().TrimEnd('\n');
    }
}
