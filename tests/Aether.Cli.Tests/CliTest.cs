namespace Aether.Cli.Tests;

/// <summary>A sandbox with the aether-ctl case written under its token: topology <c>TOKEN</c>, namespace
/// <c>TOKENns</c>, veth <c>TOKENh</c> ↔ <c>TOKENns/TOKENp</c> (address on the namespace end only), state in a temporary
/// directory.</summary>
public abstract class CliTest : SandboxTest
{
    protected string Ns { get; private set; } = null!;

    protected string HostEnd { get; private set; } = null!;

    protected string Peer { get; private set; } = null!;

    protected string Dir { get; private set; } = null!;

    protected string File { get; private set; } = null!;

    protected override Task SetUpAsync()
    {
        Ns = Box.Name("ns");
        Box.TrackNamespace(Ns);
        HostEnd = Box.TrackHostLink(Box.Name("h"));
        Peer = Box.Name("p");
        Dir = Box.Own(new TempDirectory(Box.Token)).Path;
        File = Write("topo.yaml", CtlYaml());
        Box.Own(new LockFile(Cli.LockPath(Box.Token)));
        return Task.CompletedTask;
    }

    protected string CtlYaml() => $$"""
        name: {{Box.Token}}
        namespaces:
          - name: {{Ns}}
        links:
          - name: {{HostEnd}}
            kind: veth
            peer: { name: {{Peer}}, namespace: {{Ns}}, addresses: [10.213.0.2/30] }
            up: true
        """;

    protected string Write(string name, string yaml)
    {
        var path = Path.Combine(Dir, name);
        System.IO.File.WriteAllText(path, yaml + "\n");
        return path;
    }

    /// <summary><c>aether COMMAND -f FILE --state-dir DIR/state EXTRA</c>.</summary>
    protected Task<Cli.Result> AetherAsync(string command, string? file = null, params string[] extra) =>
        Cli.RunAsync([.. command.Split(' '), "-f", file ?? File, "--state-dir", Path.Combine(Dir, "state"), .. extra]);

    /// <summary>Everything carrying this test's token, as <c>ip -j</c> shows it: host links, namespaces, and the links
    /// in the namespace when it exists.</summary>
    protected async Task<string> SnapshotAsync()
    {
        var mine = (await Ip.LinksAsync(null)).Select(l => l.GetRawText()).Where(t => t.Contains(Box.Token, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        var namespaces = (await Ip.NetnsNamesAsync()).Where(n => n.Contains(Box.Token, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var inside = new List<string>();
        foreach (var ns in namespaces)
        {
            inside.AddRange((await Ip.LinksAsync(ns)).Select(l => ns + ": " + l.GetRawText()));
        }

        return string.Join("\n", [.. mine, .. namespaces, .. inside]);
    }

    private sealed class LockFile(string path) : IDisposable
    {
        public void Dispose()
        {
            if (System.IO.File.Exists(path))
            {
                System.IO.File.Delete(path);
            }
        }
    }
}
