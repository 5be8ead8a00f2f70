using System.Text;

namespace Aether.Cli.Tests;

/// <summary><c>aether destroy</c> of a topology of many namespaces writes its record once per stage, not once per
/// object (a thousand host addresses forgotten one fsync'd write at a time made a destroy of 1000 namespaces take
/// seconds), and still leaves nothing behind, checked with <c>ip -j</c>.</summary>
public sealed class DestroyRecordTests : CliTest
{
    private const int Namespaces = 16;

    private string ManyYaml(bool sysctls)
    {
        var yaml = new StringBuilder($"name: {Box.Token}\nnamespaces:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            var ns = Box.Name("n" + i);
            Box.TrackNamespace(ns);
            yaml.Append($"  - name: {ns}\n");
            if (sysctls)
            {
                yaml.Append("    sysctls: { net.ipv4.ip_forward: \"1\" }\n");
            }
        }

        yaml.Append("links:\n");
        for (var i = 0; i < Namespaces; i++)
        {
            var host = Box.TrackHostLink(Box.Name("v" + i));
            yaml.Append($"  - {{ name: {host}, kind: veth, up: true, addresses: [10.215.{i}.1/30], peer: {{ name: eth0, namespace: {Box.Name("n" + i)}, addresses: [10.215.{i}.2/30] }} }}\n");
        }

        return yaml.ToString();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Destroy_writes_the_record_once_per_stage_and_leaves_nothing(bool sysctls)
    {
        var file = Write("many.yaml", ManyYaml(sysctls));
        var applied = await AetherAsync("apply", file);
        Assert.True(applied.Code == 0, applied.ToString());
        var state = Path.Combine(Dir, "state", Box.Token);
        Assert.True(System.IO.File.Exists(Path.Combine(state, "records.json")));
        foreach (var i in new[] { 0, Namespaces - 1 })
        {
            Assert.Equal("aether:" + Box.Token, Ip.Str(await Ip.RequireLinkAsync(null, Box.Name("v" + i)), "ifalias"));
        }

        // Every write is a new file renamed over records.json: count the renames onto it.
        var writes = 0;
        using (var watcher = new FileSystemWatcher(state, "records.json"))
        {
            watcher.Renamed += (_, e) =>
            {
                if (string.Equals(e.Name, "records.json", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref writes);
                }
            };
            watcher.EnableRaisingEvents = true;
            var destroyed = await AetherAsync("destroy", file);
            Assert.True(destroyed.Code == 0, destroyed.ToString());
            Assert.Contains($"- namespace {Box.Name("n0")}", destroyed.Stdout, StringComparison.Ordinal);
            await Task.Delay(200); // the watcher's last events
        }

        // The claims released in one write, then at most one per stage (links, addresses, routes, sysctls, nftables);
        // before, one per host address forgotten: 16 here.
        Assert.InRange(writes, 1, 6);
        Assert.False(Directory.Exists(state));
        var names = await Ip.LinkNamesAsync(null);
        Assert.DoesNotContain(names, n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
    }

    /// <summary>The objects outside the deleted namespaces are removed before those are deleted: a link whose veth peer
    /// is in one of them is left to the kernel and reported as going with it, wherever it is (here in a namespace the
    /// topology uses but did not make), its address is not deleted one by one, and an owned host bridge is deleted.</summary>
    [Fact]
    public async Task Destroy_leaves_links_to_the_deleted_namespaces_to_the_kernel_and_removes_the_rest()
    {
        var used = await Box.CreateNamespaceWithIpAsync("u");
        var made = Box.Name("m");
        Box.TrackNamespace(made);
        var bridge = Box.TrackHostLink(Box.Name("br"));
        var file = Write("used.yaml", $$"""
            name: {{Box.Token}}
            namespaces:
              - name: {{used}}
              - name: {{made}}
            links:
              - { name: {{bridge}}, kind: bridge, up: true }
              - { name: a0, namespace: {{used}}, kind: veth, up: true, addresses: [10.216.0.1/30], peer: { name: b0, namespace: {{made}}, addresses: [10.216.0.2/30] } }
              - { name: b1, namespace: {{made}}, kind: veth, up: true, addresses: [10.216.0.6/30], peer: { name: a1, namespace: {{used}}, addresses: [10.216.0.5/30] } }
            """);
        var applied = await AetherAsync("apply", file);
        Assert.True(applied.Code == 0, applied.ToString());
        Assert.Contains("10.216.0.1/30", await Ip.RunAsync("-n", used, "-o", "-4", "address", "show", "dev", "a0"), StringComparison.Ordinal);

        var destroyed = await AetherAsync("destroy", file);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.Contains($"- namespace {made}", destroyed.Stdout, StringComparison.Ordinal);
        Assert.Contains($"- link {used}/a0", destroyed.Stdout, StringComparison.Ordinal);
        Assert.Contains($"- link {used}/a1", destroyed.Stdout, StringComparison.Ordinal); // declared from the other end
        Assert.Contains("with its peer's namespace", destroyed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("address 10.216.0.1", destroyed.Stdout, StringComparison.Ordinal); // went with its link
        Assert.DoesNotContain("address 10.216.0.5", destroyed.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, destroyed.Stdout.Split('\n').Count(l => l.Contains("with its peer's namespace", StringComparison.Ordinal)));
        Assert.Contains($"- link {bridge}", destroyed.Stdout, StringComparison.Ordinal);
        Assert.Null(await Ip.LinkAsync(null, bridge));
        var namespaces = await Ip.NetnsNamesAsync();
        Assert.Contains(used, namespaces);
        Assert.DoesNotContain(made, namespaces);
        // The kernel removes a0 as it tears the made namespace down, in the background.
        for (var i = 0; i < 200 && (await Ip.LinkNamesAsync(used)).Count > 1; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(["lo"], await Ip.LinkNamesAsync(used));
        Assert.False(Directory.Exists(Path.Combine(Dir, "state", Box.Token)));
    }
}
