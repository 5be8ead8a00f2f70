using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Aether.TestInfrastructure;
using Aether.WireGuard;

namespace Aether.Bench;

/// <summary>
/// <c>docker-attach</c>: the latency of <c>docker network connect NET C</c> until the container's new interface is up
/// with its address (read with <c>nsenter --net=SANDBOX ip -j addr</c>, polled), for the Aether driver
/// (<c>aether serve --docker-plugin</c>, its hub in a namespace of its own) beside Docker's own bridge driver, on one
/// private dockerd. Trials alternate between the drivers; each is disconnected before the next.
/// </summary>
internal static class DockerAttachBench
{
    public static async Task<int> RunAsync(string cli, int trials)
    {
        var token = "aetb" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 4);
        var state = Directory.CreateTempSubdirectory("aether-bench-docker-").FullName;
        var host = token + "h";
        Process? daemon = null;
        await using var docker = await PrivateDocker.StartAsync();
        await ExecAsync("ip", "netns", "add", host);
        try
        {
            daemon = Process.Start(new ProcessStartInfo(cli)
            {
                ArgumentList =
                {
                    "serve", "--socket", Path.Combine(state, "a.sock"), "--db", Path.Combine(state, "a.db"), "--namespace", host,
                    "--wireguard-prefix", token + "w", "--docker-plugin", token + "p",
                },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            daemon.OutputDataReceived += (_, _) => { };
            daemon.ErrorDataReceived += (_, _) => { };
            daemon.BeginOutputReadLine();
            daemon.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            while (!File.Exists($"/run/docker/plugins/{token}p.sock") || (await ExecAsync(cli, "status", "--socket", Path.Combine(state, "a.sock"))).Code != 0)
            {
                if (daemon.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new InvalidOperationException("the daemon did not serve");
                }

                await Task.Delay(100);
            }

            var key = WireGuardSecretKey.GeneratePrivate();
            var peer = WireGuardSecretKey.GeneratePrivate().GetPublicKey();
            await docker.RunAsync("network", "create", "--driver", token + "p", "--subnet", "10.96.0.0/24", "-o", "key=" + key.ToBase64(), "-o", "port=51961",
                "-o", "peer-endpoint=192.0.2.1:51820", "-o", "peer-key=" + peer, token + "a");
            await docker.RunAsync("network", "create", "--driver", "bridge", "--subnet", "10.97.0.0/24", "-o", "com.docker.network.bridge.name=" + token + "br", token + "b");
            // Each driver's container starts on a base network of the same driver (docker allows no other network
            // beside "none", and the hub will not replace a default route docker's bridge set): each timed connect
            // then adds eth1, to a running container.
            await docker.RunAsync("network", "create", "--driver", token + "p", "--subnet", "10.99.0.0/24", "-o", "key=" + key.ToBase64(), "-o", "port=51962",
                "-o", "peer-endpoint=192.0.2.1:51821", "-o", "peer-key=" + peer, token + "y");
            await docker.RunAsync("network", "create", "--driver", "bridge", "--subnet", "10.98.0.0/24", "-o", "com.docker.network.bridge.name=" + token + "b0", token + "z");
            string aetherContainer = token + "c", bridgeContainer = token + "d";
            await docker.RunAsync("run", "-d", "--name", aetherContainer, "--network", token + "y", PrivateDocker.Image, "sleep", "3600");
            await docker.RunAsync("run", "-d", "--name", bridgeContainer, "--network", token + "z", PrivateDocker.Image, "sleep", "3600");
            var aetherSandbox = (await docker.RunAsync("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", aetherContainer)).Trim();
            var bridgeSandbox = (await docker.RunAsync("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", bridgeContainer)).Trim();

            var aether = new List<double>();
            var bridge = new List<double>();
            for (var i = 0; i < trials; i++)
            {
                aether.Add(await AttachAsync(docker, aetherContainer, aetherSandbox, token + "a", "10.96.0."));
                bridge.Add(await AttachAsync(docker, bridgeContainer, bridgeSandbox, token + "b", "10.97.0."));
            }

            var (a50, a99) = (Percentile(aether, 0.50), Percentile(aether, 0.99));
            var (b50, b99) = (Percentile(bridge, 0.50), Percentile(bridge, 0.99));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"docker-attach: {trials} trials each, docker network connect -> ethN up with its address"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  aether  p50 {a50,8:F1} ms  p99 {a99,8:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  bridge  p50 {b50,8:F1} ms  p99 {b99,8:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  aether / bridge  p50 {a50 / b50:F2}x  p99 {a99 / b99:F2}x"));
            return 0;
        }
        finally
        {
            await docker.TryRunAsync("rm", "-f", token + "c", token + "d");
            await docker.TryRunAsync("network", "rm", token + "a", token + "b", token + "y", token + "z");
            if (daemon is not null)
            {
                _ = Kill(daemon.Id, 15);
                await daemon.WaitForExitAsync();
            }

            await ExecAsync("ip", "netns", "del", host);
            foreach (var bridgeName in (string[])[token + "br", token + "b0"])
            {
                if ((await ExecAsync("ip", "link", "show", bridgeName)).Code == 0)
                {
                    await ExecAsync("ip", "link", "del", bridgeName);
                }
            }

            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>One connect, timed until an interface of the sandbox has an address starting with
    /// <paramref name="prefix"/>; then a disconnect (not timed) and a wait until it is gone.</summary>
    private static async Task<double> AttachAsync(PrivateDocker docker, string container, string sandbox, string network, string prefix)
    {
        var started = Stopwatch.GetTimestamp();
        await docker.RunAsync("network", "connect", network, container);
        while (!await HasAddressAsync(sandbox, prefix))
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"{network}: no {prefix}* address in {sandbox} after 30 s");
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await docker.RunAsync("network", "disconnect", network, container);
        while (await HasAddressAsync(sandbox, prefix))
        {
            await Task.Delay(10);
        }

        return elapsed;
    }

    private static async Task<bool> HasAddressAsync(string sandbox, string prefix)
    {
        var (code, stdout) = await ExecAsync("nsenter", "--net=" + sandbox, "ip", "-j", "-4", "addr");
        return code == 0 && JsonDocument.Parse(stdout).RootElement.EnumerateArray()
            .Any(link => link.TryGetProperty("addr_info", out var infos) && infos.EnumerateArray().Any(a => a.GetProperty("local").GetString()!.StartsWith(prefix, StringComparison.Ordinal)));
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static async Task<(int Code, string Stdout)> ExecAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        _ = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
