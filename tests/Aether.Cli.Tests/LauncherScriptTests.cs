using System.Diagnostics;

namespace Aether.Cli.Tests;

/// <summary>
/// The <c>./aether</c> launcher at the repository's root, run in a copy of a repository whose <c>dotnet</c> is a stand-in
/// that only writes the binary it is asked to publish (the real build takes minutes): the first run says that it is
/// building and why, a run with nothing changed says nothing, and a changed source file is named.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LauncherScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("aet-launcher-").FullName;

    public LauncherScriptTests()
    {
        File.Copy(Path.Combine(Cli.RepositoryRoot, "aether"), Path.Combine(_root, "aether"));
        Directory.CreateDirectory(Path.Combine(_root, "src", "Aether.Cli"));
        File.WriteAllText(Path.Combine(_root, "src", "Aether.Cli", "Program.cs"), "// stand-in\n");
        File.WriteAllText(Path.Combine(_root, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(_root, "Directory.Build.props"), "<Project />\n");
        Directory.CreateDirectory(Path.Combine(_root, "fakebin"));

        // The stand-in publish: writes DIR/aether (a script that prints its arguments) for `-o DIR`.
        var dotnet = Path.Combine(_root, "fakebin", "dotnet");
        File.WriteAllText(dotnet, """
            #!/usr/bin/env bash
            out=""
            while [ $# -gt 0 ]; do
              if [ "$1" = "-o" ]; then out="$2"; shift; fi
              shift
            done
            mkdir -p "$out"
            printf '#!/bin/sh\necho "ran: $*"\n' >"$out/aether"
            chmod +x "$out/aether"
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task First_run_says_it_is_building_and_why_then_runs_the_command()
    {
        var first = await RunAsync("--version");

        Assert.Equal(0, first.Code);
        Assert.Contains("aether: building the CLI (no build yet in .build/aether)", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("aether: built in ", first.Stderr, StringComparison.Ordinal);
        Assert.Equal("ran: --version\n", first.Stdout);
        Assert.True(File.Exists(Path.Combine(_root, ".build", "aether", "aether")));
    }

    [Fact]
    public async Task Up_to_date_run_is_silent_and_a_changed_source_is_named()
    {
        Assert.Equal(0, (await RunAsync("--help")).Code);

        var again = await RunAsync("status");
        Assert.Equal(0, again.Code);
        Assert.Equal(string.Empty, again.Stderr);
        Assert.Equal("ran: status\n", again.Stdout);

        var source = Path.Combine(_root, "src", "Aether.Cli", "Program.cs");
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(1));
        var rebuilt = await RunAsync("status");
        Assert.Equal(0, rebuilt.Code);
        Assert.Contains("aether: building the CLI (src/Aether.Cli/Program.cs changed since the last build)", rebuilt.Stderr, StringComparison.Ordinal);

        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(-10));
        File.SetLastWriteTimeUtc(Path.Combine(_root, "Directory.Packages.props"), DateTime.UtcNow.AddMinutes(2));
        var props = await RunAsync("status");
        Assert.Contains("aether: building the CLI (Directory.Packages.props changed since the last build)", props.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_build_shows_the_output_and_says_so()
    {
        File.WriteAllText(Path.Combine(_root, "fakebin", "dotnet"), "#!/bin/sh\necho 'error CS1002: ; expected'\nexit 1\n");

        var result = await RunAsync("--version");

        Assert.Equal(1, result.Code);
        Assert.Contains("aether: building the CLI (no build yet in .build/aether)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error CS1002", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("aether: build failed", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    private async Task<Cli.Result> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(_root, "aether"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["PATH"] = Path.Combine(_root, "fakebin") + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return new Cli.Result(process.ExitCode, await stdout, await stderr);
    }
}
