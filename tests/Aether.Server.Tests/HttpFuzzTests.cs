using Aether.Bench;
using CliProcess = Aether.Cli.Tests.Cli;

namespace Aether.Server.Tests;

/// <summary>The short version of <c>aether-bench chaos-fuzz --target http</c>: the real daemon (private directory,
/// its own namespaces named <c>aetfz…</c>, unix socket and loopback TCP with a token) under 3,000 generated requests:
/// mutated hub-network and lab bodies, bad paths, methods, headers, content types, chunked and oversized bodies, no or a
/// wrong token. No 5xx, no connection closed without an answer, none unanswered, no kernel change after a batch in
/// which no change was accepted, and the daemon healthy after. Everything it made is removed through its API, then its
/// namespaces are deleted.</summary>
public sealed class HttpFuzzTests
{
    [Fact]
    public async Task Three_thousand_hostile_requests_get_no_5xx_and_leave_the_daemon_healthy()
    {
        using var log = new StringWriter();
        var ok = await FuzzHttp.RunAsync(CliProcess.BinaryPath, 3000, 1618, TimeSpan.FromSeconds(30), log);
        Assert.True(ok, log.ToString());
        Assert.Contains("0 5xx, 0 closed without an answer, 0 unanswered", log.ToString(), StringComparison.Ordinal);
    }
}
