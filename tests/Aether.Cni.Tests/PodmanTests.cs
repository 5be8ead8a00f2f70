using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;

namespace Aether.Cni.Tests;

/// <summary>
/// Once through podman (4.3, CNI backend): a private root, run root, vfs storage and CNI configuration directory
/// (containers.conf in a temporary directory, named by <c>CONTAINERS_CONF</c>), an image imported from a busybox
/// rootfs (no registry). <c>podman run --network NET</c> calls the plugin with ADD, the container sees its address
/// and pings the gateway (the nofile and nproc limits are lowered to 1024: podman asks runc for more than this VM lets even root raise to); when it exits podman calls DEL and the daemon's network has no attachment left.
/// </summary>
public sealed class PodmanTests : SandboxTest
{
    private const string Key = "YFBU3CgdFPjqLMBqMRDyqCQmTLsT36MhAnKyVPSh9WI=";
    private readonly string _dir = Directory.CreateTempSubdirectory("aet-cni-podman-").FullName;
    private Daemon _daemon = null!;

    protected override async Task SetUpAsync()
    {
        var host = Box.CreateNamespace("h");
        try
        {
            _daemon = await Daemon.StartAsync(_dir, host.Name!, Box.Name("w"));
        }
        catch
        {
            // xunit runs no teardown after a failed setup.
            Directory.Delete(_dir, recursive: true);
            throw;
        }
    }

    protected override async Task TearDownAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }

        // Podman's storage is vfs (plain directories) under _dir; it leaves no mount behind.
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Podman_run_attaches_through_the_plugin_and_detaches_on_exit()
    {
        Assert.True(File.Exists("/usr/bin/podman"), "podman is not installed (apt-get install --no-install-recommends podman)");
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var cni = Directory.CreateDirectory(Path.Combine(_dir, "cni")).FullName;
        // A link, not a copy: the JIT build's apphost finds its assembly beside the file the link resolves to.
        File.CreateSymbolicLink(Path.Combine(bin, "aether-cni"), CniPlugin.BinaryPath);
        var network = Box.Token + "pn";
        await File.WriteAllTextAsync(Path.Combine(_dir, "containers.conf"), $"""
            [network]
            network_backend = "cni"
            cni_plugin_dirs = ["{bin}"]
            network_config_dir = "{cni}"
            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            """);
        await File.WriteAllTextAsync(Path.Combine(cni, network + ".conflist"), $$"""
            {"cniVersion":"1.0.0","name":"{{network}}","plugins":[{"type":"aether-cni","socket":"{{_daemon.Socket}}","index":5,"privateKey":"{{Key}}",
             "listenPort":51905,"networkCidr":"10.215.0.0/24","gateway":"10.215.0.1"}]}
            """);
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs", "bin")).FullName;
        File.Copy("/bin/busybox", Path.Combine(rootfs, "busybox"));
        foreach (var tool in (string[])["sh", "ip", "ping"])
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, tool), "busybox");
        }

        var tar = await Ip.ExecAsync("tar", "-C", Path.Combine(_dir, "rootfs"), "-cf", Path.Combine(_dir, "rootfs.tar"), ".");
        Assert.True(tar.Code == 0, tar.Stderr);
        var import = await PodmanAsync("import", Path.Combine(_dir, "rootfs.tar"), "aetbox:1");
        Assert.True(import.Code == 0, import.Stderr);

        var run = await PodmanAsync("run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", network, "aetbox:1", "sh", "-c", "ip -4 -o addr show eth0 && ping -c 1 -W 5 10.215.0.1");
        Assert.True(run.Code == 0, $"podman run: exit {run.Code}\n{run.Stdout}\n{run.Stderr}\n{(await PodmanAsync("network", "ls")).Stdout}\n{string.Join("\n", Directory.GetFiles(cni).Select(File.ReadAllText))}\n{File.ReadAllText(Path.Combine(_dir, "containers.conf"))}");
        Assert.Contains("inet 10.215.0.2/32", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 packets received", run.Stdout, StringComparison.Ordinal);

        // podman called DEL when the container went: the daemon holds the network and no attachment.
        var shown = await GetAsync(_daemon.Socket, "/v1/hub/networks/" + network);
        Assert.Equal(0, shown.GetProperty("attachments").GetArrayLength());
    }

    private async Task<(int Code, string Stdout, string Stderr)> PodmanAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["CONTAINERS_CONF"] = Path.Combine(_dir, "containers.conf");
        foreach (var a in (string[])["--root", Path.Combine(_dir, "root"), "--runroot", Path.Combine(_dir, "runroot"), "--storage-driver", "vfs", .. args])
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static async Task<JsonElement> GetAsync(string socket, string path)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://aether/") };
        var body = await http.GetStringAsync(path);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
