namespace Aether.Cli.Tests;

/// <summary>
/// dist/iproute2/rt_protos.d/aether.conf names Aether's route protocol: with it installed, <c>ip route</c> shows the
/// routes an apply made as <c>proto aether</c>. "Installed" in a private mount namespace only (a copy of
/// /etc/iproute2 with the file added, bind-mounted over it for one <c>ip</c>), so the machine's configuration is never
/// touched.
/// </summary>
public sealed class RouteProtocolNameTests : CliTest
{
    [Fact]
    public async Task Ip_route_names_an_applied_route_proto_aether_with_the_shipped_file()
    {
        var shipped = Path.Combine(Cli.RepositoryRoot, "dist", "iproute2", "rt_protos.d", "aether.conf");
        var entry = System.IO.File.ReadAllLines(shipped).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('\t', ' ')).Single();
        Assert.Equal(Aether.Reconcile.Sources.RouteSource.DefaultProtocol.ToString(System.Globalization.CultureInfo.InvariantCulture), entry[0]);
        Assert.Equal("aether", entry[^1]);

        var yaml = CtlYaml() + $"\nroutes:\n  - {{ namespace: {Ns}, to: 10.50.0.0/24, dev: {Peer} }}";
        var applied = await AetherAsync("apply", Write("routes.yaml", yaml));
        Assert.True(applied.Code == 0, applied.ToString());

        var etc = Path.Combine(Dir, "iproute2");
        var copy = await RunAsync("cp", "-a", "/etc/iproute2/.", etc + "/");
        Assert.True(copy.Code == 0, copy.Output);
        Directory.CreateDirectory(Path.Combine(etc, "rt_protos.d"));
        System.IO.File.Copy(shipped, Path.Combine(etc, "rt_protos.d", "aether.conf"));

        var route = await RunAsync("unshare", "-m", "--propagation", "private", "sh", "-c", $"mount --bind '{etc}' /etc/iproute2 && ip -n '{Ns}' route show 10.50.0.0/24");
        Assert.True(route.Code == 0, route.Output);
        Assert.Contains("proto aether", route.Output, StringComparison.Ordinal);

        // Without the file the same route shows the number: the name came from it.
        var plain = await RunAsync("ip", "-n", Ns, "route", "show", "10.50.0.0/24");
        Assert.Contains("proto 174", plain.Output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] args)
    {
        var (code, stdout, stderr) = await Ip.ExecAsync(program, args);
        return (code, stdout + stderr);
    }
}
