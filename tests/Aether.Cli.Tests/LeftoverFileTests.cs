namespace Aether.Cli.Tests;

/// <summary>
/// What a batch of namespace creations killed between making its mount point files and mounting them leaves: a
/// plain file in <c>/run/netns</c> per name. The next apply waits for them together (a creation under way mounts
/// within milliseconds), then removes them and makes the namespaces. Checked with <c>stat</c> (a namespace is an nsfs
/// mount) and <c>ip netns</c>. (Waiting for each in turn made an apply of 200 namespaces take 41 s; that figure is in
/// docs/reliability.md, not asserted here.)
/// </summary>
public sealed class LeftoverFileTests : SandboxTest
{
    [Fact]
    public async Task Plain_files_left_by_a_killed_creation_become_the_namespaces()
    {
        var dir = Box.Own(new TempDirectory(Box.Token)).Path;
        var names = Enumerable.Range(0, 30).Select(i => $"{Box.Token}-{i}").ToList();
        foreach (var name in names)
        {
            Box.TrackNamespace(name);
            await File.WriteAllBytesAsync(Path.Combine("/run/netns", name), []);
        }

        var file = Path.Combine(dir, "topology.yaml");
        await File.WriteAllTextAsync(file, $"name: {Box.Token}\nnamespaces:\n" + string.Concat(names.Select(n => $"  - name: {n}\n")));
        var applied = await Cli.RunAsync(["apply", "-f", file, "--state-dir", Path.Combine(dir, "state")]);
        Assert.True(applied.Code == 0, applied.ToString());
        Assert.Contains("applied: 30 created", applied.Stdout, StringComparison.Ordinal);

        foreach (var name in names)
        {
            var (code, type, error) = await Ip.ExecAsync("stat", "-f", "-c", "%T", Path.Combine("/run/netns", name));
            Assert.True(code == 0, error);
            Assert.Equal("nsfs", type.Trim());
        }

        var destroyed = await Cli.RunAsync(["destroy", "-f", file, "--state-dir", Path.Combine(dir, "state")]);
        Assert.True(destroyed.Code == 0, destroyed.ToString());
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token + "-", StringComparison.Ordinal));
    }
}
