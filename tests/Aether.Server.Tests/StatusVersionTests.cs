using System.Reflection;
using Aether.Server.Api;

namespace Aether.Server.Tests;

/// <summary>The version <c>/v1/status</c> reports: the daemon's build version (from the git tags, with the commit as
/// build metadata), unless <see cref="ServerOptions.Version"/> says otherwise.</summary>
public sealed class StatusVersionTests
{
    [Fact]
    public void Status_reports_the_build_version_unless_given_one()
    {
        var built = typeof(AetherServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        Assert.Equal(built, new DaemonInfo(new ServerOptions(), TimeProvider.System).Version);
        Assert.Equal("9.9.9", new DaemonInfo(new ServerOptions { Version = "9.9.9" }, TimeProvider.System).Version);

        // SemVer 2 with the commit as build metadata: what `aether --version` prints for the same build.
        Assert.Matches(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?\+[0-9a-f]{40}$", built);
    }
}
