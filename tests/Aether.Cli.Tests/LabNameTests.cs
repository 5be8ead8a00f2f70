namespace Aether.Cli.Tests;

/// <summary>
/// Names in a lab file the kernel, nftables or a terminal give meaning to, end to end: <c>lab deploy</c> exits 2 and
/// makes no namespace and no record; a lab whose Linux names are at the edge of what is allowed deploys them exactly.
/// </summary>
public sealed class LabNameTests : SandboxTest
{
    private string _dir = null!;
    private string _state = null!;

    protected override Task SetUpAsync()
    {
        _dir = Box.Own(new TempDirectory(Box.Token)).Path;
        _state = Path.Combine(_dir, "state");
        foreach (var node in new[] { "a", "b" })
        {
            Box.TrackNamespace($"{Box.Token}-{node}");
        }

        return Task.CompletedTask;
    }

    protected override Task TearDownAsync()
    {
        // A background runner must not outlive a failed test.
        var pidFile = Path.Combine(_state, "labs", Box.Token, "run.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            try
            {
                using var runner = System.Diagnostics.Process.GetProcessById(pid);
                runner.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        return Task.CompletedTask;
    }

    private Task<Cli.Result> LabAsync(params string[] args) => Cli.RunAsync(["lab", "--state-dir", _state, .. args]);

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "lab.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Theory]
    [InlineData("a:eth%d", "b:eth1", "links[0].endpoints[0]", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("a:eth1", "b:eth*", "links[0].endpoints[1]", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("a:eth\\e[2J", "b:eth1", "links[0].endpoints[0]", "U+001B is not allowed in an interface name (ESC")]
    [InlineData("a:eth\\u202E1", "b:eth1", "links[0].endpoints[0]", "U+202E is not allowed")]
    [InlineData("a:ééééééééé", "b:eth1", "links[0].endpoints[0]", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    public async Task A_lab_with_a_name_with_meaning_exits_2_and_makes_nothing(string first, string second, string field, string why)
    {
        var file = Write($$"""
            name: {{Box.Token}}
            nodes:
              a: { kind: linux }
              b: { kind: linux }
            links:
              - endpoints: ["{{first}}", "{{second}}"]
            """);

        var result = await LabAsync("deploy", "-f", file);

        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains(file + ":6:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(field + ": node ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("allowed: 1-15 bytes", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stderr);
        Assert.DoesNotContain('\u202e', result.Stderr);
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_state, "labs", Box.Token)), "a record of the refused lab");
    }

    [Fact]
    public async Task A_namespace_with_an_escape_exits_2_and_makes_nothing()
    {
        var file = Write($$"""
            name: {{Box.Token}}
            nodes:
              a: { kind: linux, namespace: "{{Box.Token}}\e]0;x\a" }
              b: { kind: linux }
            links:
              - endpoints: ["a:eth1", "b:eth1"]
            """);

        var result = await LabAsync("deploy", "-f", file);

        Assert.True(result.Code == 2, result.ToString());
        Assert.Contains("nodes.a.namespace: '" + Box.Token + "\\u001B]0;x\\u0007': U+001B is not allowed in a namespace name", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stderr);
        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_state, "labs", Box.Token)), "a record of the refused lab");
    }

    [Fact]
    public async Task Linux_names_of_15_bytes_with_dots_and_dashes_are_deployed_as_written()
    {
        const string A = "a23456789.12-45";
        const string B = "b.c-d_e";
        var file = Write($$"""
            name: {{Box.Token}}
            nodes:
              a: { kind: linux }
              b: { kind: linux }
            links:
              - endpoints: ["a:{{A}}", "b:{{B}}"]
            """);

        try
        {
            var deployed = await LabAsync("deploy", "-f", file);
            Assert.True(deployed.Code == 0, deployed.ToString());
            Assert.Equal(A, Ip.Str(await Ip.RequireLinkAsync($"{Box.Token}-a", A), "ifname"));
            Assert.Equal(B, Ip.Str(await Ip.RequireLinkAsync($"{Box.Token}-b", B), "ifname"));
        }
        finally
        {
            var destroyed = await LabAsync("destroy", "-f", file);
            Assert.True(destroyed.Code == 0, destroyed.ToString());
        }

        Assert.DoesNotContain(await Ip.NetnsNamesAsync(), n => n.StartsWith(Box.Token, StringComparison.Ordinal));
    }
}
