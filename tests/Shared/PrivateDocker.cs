using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Aether.TestInfrastructure;

/// <summary>
/// A dockerd of the tests' own: data root, exec root, socket and pid file in a private temporary directory, no bridge,
/// no iptables, no forwarding or masquerade changes (it starts its own containerd), and an image <see cref="Image"/>
/// imported from a rootfs of <c>/bin/busybox</c> (busybox-static) with its applets linked. Disposing removes the
/// containers and networks it holds, stops it (SIGTERM, then SIGKILL), unmounts what it left under its directory and
/// deletes the directory, also after a failed start.
/// </summary>
public sealed class PrivateDocker : IAsyncDisposable
{
    /// <summary>The image every test container runs.</summary>
    public const string Image = "aetbusybox:1";

    private static readonly string[] Applets = ["sh", "ip", "ping", "sleep", "cat", "ls"];

    private Process? _dockerd;

    private PrivateDocker(string directory) => Root = directory;

    /// <summary>The private directory.</summary>
    public string Root { get; }

    /// <summary>dockerd's socket.</summary>
    public string Socket => Path.Combine(Root, "docker.sock");

    /// <summary>Where dockerd keeps the containers' network namespaces (their sandbox keys).</summary>
    public string NetnsDirectory => Path.Combine(Root, "exec", "netns");

    /// <summary>Starts dockerd and imports the image.</summary>
    public static async Task<PrivateDocker> StartAsync()
    {
        var docker = new PrivateDocker(Directory.CreateTempSubdirectory("aetdk" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 5) + "-").FullName);
        try
        {
            await docker.StartDaemonAsync();
            await docker.ImportImageAsync();
            return docker;
        }
        catch
        {
            await docker.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>docker -H unix://SOCKET ARGS</c> (60 s at most).</summary>
    public async Task<(int Code, string Stdout, string Stderr)> TryRunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-H");
        psi.ArgumentList.Add("unix://" + Socket);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a docker command that must succeed; returns its output.</summary>
    public async Task<string> RunAsync(params string[] args)
    {
        var (code, stdout, stderr) = await TryRunAsync(args);
        return code == 0 ? stdout : throw new InvalidOperationException($"docker {string.Join(' ', args)}: exit {code}\n{stderr}{stdout}");
    }

    /// <summary>The sandbox key (network namespace path) of a running container.</summary>
    public async Task<string> SandboxKeyAsync(string container) =>
        (await RunAsync("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", container)).Trim();

    /// <summary>Everything dockerd logged so far (for failure messages).</summary>
    public string Log() => File.Exists(Path.Combine(Root, "dockerd.log")) ? File.ReadAllText(Path.Combine(Root, "dockerd.log")) : "";

    public async ValueTask DisposeAsync()
    {
        if (_dockerd is { HasExited: false } dockerd)
        {
            try
            {
                var ids = (await TryRunAsync("ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                {
                    await TryRunAsync(["rm", "-f", .. ids]);
                }

                await TryRunAsync("network", "prune", "-f");
            }
            finally
            {
                await StopAsync(dockerd);
            }
        }

        UnmountUnder(Root);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            UnmountUnder(Root);
            Directory.Delete(Root, recursive: true);
        }
    }

    private async Task StartDaemonAsync()
    {
        var log = Path.Combine(Root, "dockerd.log");
        var psi = new ProcessStartInfo("sh")
        {
            UseShellExecute = false,
            ArgumentList =
            {
                "-c",
                "exec dockerd \"$@\" >" + log + " 2>&1", "dockerd",
                "--data-root", Path.Combine(Root, "data"), "--exec-root", Path.Combine(Root, "exec"), "-H", "unix://" + Socket,
                "--pidfile", Path.Combine(Root, "docker.pid"), "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--ip-forward=false", "--ip-masq=false",
            },
        };
        _dockerd = Process.Start(psi)!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_dockerd.HasExited)
            {
                throw new InvalidOperationException($"dockerd exited with {_dockerd.ExitCode}:\n{Log()}");
            }

            if (File.Exists(Socket) && (await TryRunAsync("version", "--format", "{{.Server.Version}}")).Code == 0)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException("dockerd did not answer within 60 s:\n" + Log());
    }

    private async Task ImportImageAsync()
    {
        var rootfs = Path.Combine(Root, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        var psi = new ProcessStartInfo("sh")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            ArgumentList = { "-c", "tar -C \"$1\" -c . | docker -H \"unix://$2\" import - \"$3\"", "import", rootfs, Socket, Image },
        };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"docker import: exit {process.ExitCode}: {await stderr}");
        }
    }

    private async Task StopAsync(Process dockerd)
    {
        // containerd is dockerd's child; dockerd stops it on SIGTERM. After a SIGKILL it would stay: kill it by its pid file.
        _ = Kill(dockerd.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await dockerd.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            dockerd.Kill();
            await dockerd.WaitForExitAsync();
        }

        var containerdPid = Path.Combine(Root, "exec", "containerd", "containerd.pid");
        if (File.Exists(containerdPid) && int.TryParse(File.ReadAllText(containerdPid).Trim(), out var pid) && File.Exists($"/proc/{pid}/cmdline")
            && File.ReadAllText($"/proc/{pid}/cmdline").Contains(Root, StringComparison.Ordinal))
        {
            _ = Kill(pid, 9);
        }

        dockerd.Dispose();
    }

    /// <summary>Unmounts (lazily, deepest first) every mount point under <paramref name="directory"/>: a stopped dockerd
    /// can leave its netns bind mounts and overlay mounts behind.</summary>
    private static void UnmountUnder(string directory)
    {
        var points = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(p => p.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(p => p.Length)
            .ToList();
        foreach (var point in points)
        {
            _ = Umount2(point, 2 /* MNT_DETACH */);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2(string target, int flags);
}
