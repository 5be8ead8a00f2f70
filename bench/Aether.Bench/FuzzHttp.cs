using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aether.Interop;
using Aether.Netlink.Namespaces;
using Aether.WireGuard;

namespace Aether.Bench;

/// <summary>
/// The daemon's HTTP API under generated requests: <c>aether serve</c> in a private directory, bound to a namespace of
/// its own, on a unix socket and loopback TCP with a token. Requests go in batches of 200 (four at a time); after a
/// batch in which no change was accepted (no 2xx to a POST, PATCH or DELETE), the namespaces, the hub namespace's links
/// and the container's links must be as before it. Counted: answers by status class, 5xx, connections closed or reset
/// without an answer, requests unanswered within the timeout; at the end the daemon must still answer.
/// </summary>
internal static class FuzzHttp
{
    public static async Task<bool> RunAsync(string cli, int inputs, int seed, TimeSpan timeout, TextWriter? log = null)
    {
        log ??= Console.Out;
        var prefix = "aetfz" + Guid.NewGuid().ToString("N")[..4];
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        var hostName = prefix + "h";
        var containerName = prefix + "c";
        using var host = NetworkNamespace.Create(hostName);
        using var container = NetworkNamespace.Create(containerName);
        var token = Convert.ToHexString(Guid.NewGuid().ToByteArray()) + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var tokenFile = Path.Combine(dir, "token");
        await File.WriteAllTextAsync(tokenFile, token);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var socket = Path.Combine(dir, "aether.sock");
        var port = FreePort();
        var daemon = FuzzDaemon.Start(cli, socket, dir, hostName, prefix + "w", $"http://127.0.0.1:{port}", tokenFile);
        var labSeeds = FuzzSeeds.Labs.Select(s => s.Replace("aetfz", prefix, StringComparison.Ordinal).Replace("fabric: ovs\n", string.Empty, StringComparison.Ordinal)).ToList();
        var generator = new FuzzHttpRequests(seed, prefix, containerName, WireGuardSecretKey.GeneratePrivate().ToBase64(), WireGuardSecretKey.GeneratePrivate().GetPublicKey().ToString(), token, labSeeds);
        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var fiveXx = new ConcurrentQueue<string>();
        var resets = new ConcurrentQueue<string>();
        var hangs = new ConcurrentQueue<string>();
        var kernelChanges = new List<string>();
        var checkedBatches = 0;
        try
        {
            await daemon.WaitReadyAsync(socket);
            log.WriteLine($"http: daemon pid {daemon.Process.Id}, unix socket and 127.0.0.1:{port}, prefix {prefix}");
            var clock = Stopwatch.StartNew();
            for (var done = 0; done < inputs;)
            {
                var batch = Enumerable.Range(0, Math.Min(200, inputs - done)).Select(_ => generator.Next()).ToList();
                var before = await SnapshotAsync(hostName, containerName, prefix);
                var changed = 0;
                await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, _) =>
                {
                    var (status, head) = await SendAsync(request, socket, port, timeout);
                    var key = status switch { -1 => "hang", 0 => "no answer", _ => status.ToString(CultureInfo.InvariantCulture)[0] + "xx" };
                    statuses.AddOrUpdate(key, 1, (_, n) => n + 1);
                    if (status >= 500)
                    {
                        fiveXx.Enqueue($"{request.Kind} {status}: {Line(request.Bytes)} -> {head}");
                    }
                    else if (status == 0)
                    {
                        resets.Enqueue($"{request.Kind}: {Line(request.Bytes)} ({head})");
                    }
                    else if (status == -1)
                    {
                        hangs.Enqueue($"{request.Kind}: {Line(request.Bytes)}");
                    }
                    else if (status is >= 200 and < 300 && request.Mutating)
                    {
                        Interlocked.Increment(ref changed);
                    }
                });
                done += batch.Count;
                if (changed == 0)
                {
                    checkedBatches++;
                    var diff = before.Diff(await SnapshotAsync(hostName, containerName, prefix));
                    kernelChanges.AddRange(diff.Select(d => $"batch ending {done}: {d}"));
                }

                if (daemon.Process.HasExited)
                {
                    log.WriteLine($"http: the daemon exited with {daemon.Process.ExitCode} after {done} requests");
                    break;
                }
            }

            var elapsed = clock.Elapsed;
            var alive = !daemon.Process.HasExited && await FuzzDaemon.HealthyAsync(socket);
            var total = statuses.Values.Sum();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"http: {total} requests in {elapsed.TotalSeconds:0.0} s ({total / elapsed.TotalSeconds:0} requests/s): {string.Join(", ", statuses.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}"));
            log.WriteLine($"http: {fiveXx.Count} 5xx, {resets.Count} closed without an answer, {hangs.Count} unanswered within {timeout.TotalSeconds:0.#} s, daemon {(alive ? "alive and healthy" : "NOT answering")} after");
            log.WriteLine($"http: {checkedBatches} batches with no change accepted, {kernelChanges.Count} kernel changes after them");
            foreach (var line in fiveXx.Take(10).Concat(resets.Take(10)).Concat(hangs.Take(10)).Concat(kernelChanges.Take(10)))
            {
                log.WriteLine("  " + line);
            }

            return fiveXx.IsEmpty && resets.IsEmpty && hangs.IsEmpty && kernelChanges.Count == 0 && alive;
        }
        finally
        {
            await FuzzDaemon.CleanUpAsync(socket);
            await daemon.StopAsync();
            foreach (var ns in (await KernelSnapshot.TakeAsync()).Names.Where(n => n.StartsWith("netns " + prefix, StringComparison.Ordinal)))
            {
                var name = ns["netns ".Length..];
                if (name != hostName && name != containerName && NetworkNamespace.Exists(name))
                {
                    NetworkNamespace.Delete(name);
                }
            }

            NetworkNamespace.Delete(hostName);
            NetworkNamespace.Delete(containerName);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The namespaces named with the run's prefix (a lab's are LAB-NODE, its labs are named with the prefix)
    /// and every namespace not named <c>aet…</c> (others' tests on this machine use that), the hub namespace's links
    /// and the container's.</summary>
    private static async Task<KernelSnapshot> SnapshotAsync(string host, string container, string prefix)
    {
        var all = await KernelSnapshot.TakeAsync();
        var names = all.Names.Where(n => n.StartsWith("netns ", StringComparison.Ordinal)
            && (n.StartsWith("netns " + prefix, StringComparison.Ordinal) || !n.StartsWith("netns aet", StringComparison.Ordinal))).ToHashSet(StringComparer.Ordinal);
        names.UnionWith((await KernelSnapshot.TakeAsync(host)).Names.Select(n => "host " + n));
        names.UnionWith((await KernelSnapshot.TakeAsync(container)).Names.Select(n => "container " + n));
        return new KernelSnapshot(names);
    }

    /// <summary>Sends the request and reads until the server closes: the status (0 when the connection closed or was
    /// reset without one, -1 when nothing came within <paramref name="timeout"/>) and the answer's first bytes.</summary>
    private static async Task<(int Status, string Head)> SendAsync(FuzzRequest request, string socketPath, int port, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = request.Tcp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var seen = new MemoryStream();
        try
        {
            await socket.ConnectAsync(request.Tcp ? new IPEndPoint(IPAddress.Loopback, port) : new UnixDomainSocketEndPoint(socketPath), cts.Token);
            var reading = ReadAllAsync(socket, seen, cts.Token);
            try
            {
                await socket.SendAsync(request.Bytes, SocketFlags.None, cts.Token);
            }
            catch (SocketException)
            {
                // The server answered and closed while the body was still going: its answer is what counts.
            }

            await reading;
        }
        catch (OperationCanceledException)
        {
            return (-1, string.Empty);
        }
        catch (SocketException e)
        {
            if (seen.Length == 0)
            {
                return (0, e.SocketErrorCode.ToString());
            }
        }

        var text = Encoding.Latin1.GetString(seen.GetBuffer(), 0, (int)Math.Min(seen.Length, 400));
        return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), CultureInfo.InvariantCulture, out var status)
            ? (status, Excerpt(text))
            : (0, text.Length == 0 ? "closed" : Excerpt(text));
    }

    private static async Task ReadAllAsync(Socket socket, MemoryStream into, CancellationToken ct)
    {
        var buffer = new byte[16384];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0)
            {
                return;
            }

            if (into.Length < 65536)
            {
                into.Write(buffer, 0, n);
            }
        }
    }

    private static string Excerpt(string answer)
    {
        var body = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var status = answer.Split("\r\n")[0];
        return body < 0 ? status : status + " " + answer[(body + 4)..][..Math.Min(200, answer.Length - body - 4)].ReplaceLineEndings(" ");
    }

    private static string Line(byte[] request)
    {
        var text = Encoding.Latin1.GetString(request, 0, Math.Min(request.Length, 2000));
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var line = end < 0 ? text : text[..end];
        return body < 0 ? line : line + " " + text[(body + 4)..][..Math.Min(160, text.Length - body - 4)].ReplaceLineEndings(" ");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
