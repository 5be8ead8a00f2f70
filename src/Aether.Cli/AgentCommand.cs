using System.CommandLine;
using System.Net;
using Aether.Labs;

namespace Aether.Cli;

/// <summary>The <c>aether agent</c> command: one host's agent of labs across hosts (in the native build, it becomes
/// the ReadyToRun build, as <c>serve</c> does: the agent talks to PostgreSQL through EF Core).</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db")
        {
            Description = "The PostgreSQL database the controller and every agent share: postgres://USER@HOST/DB or a connection string (default $AETHER_DB).",
            HelpName = "DATABASE",
        };
        var hostId = new Option<string>("--host-id")
        {
            Description = "This host's id, as lab files name it in host: (" + HostId.Allowed + ").",
            HelpName = "ID",
            Required = true,
        };
        var underlay = new Option<string>("--underlay")
        {
            Description = "The address other hosts reach this one at: the local end of its VXLAN tunnels (a unicast IPv4 or IPv6 address).",
            HelpName = "ADDRESS",
            Required = true,
        };
        var ns = new Option<string?>("--namespace")
        {
            Description = "The named namespace that is this host (where its underlay address is and its tunnels run); default the agent's own.",
            HelpName = "NAME",
        };
        var ovsdb = new Option<string?>("--ovsdb")
        {
            Description = "Where this host's ovsdb-server listens (unix:PATH), for labs on the ovs fabric; its ovs-vswitchd runs in this host's namespace. Without it, ovs labs placed here report that.",
            HelpName = "unix:PATH",
        };
        var stateDir = new Option<string?>("--state-dir")
        {
            Description = "Where the agent keeps each lab part's records (default $AETHER_STATE_DIR, else /var/lib/aether).",
            HelpName = "DIR",
        };
        var resync = new Option<string>("--resync")
        {
            Description = "The full pass between notifications: what a lost notification costs at most (default 30s).",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "30s",
        };
        hostId.Validators.Add(r =>
        {
            if (!HostId.IsValid(r.GetValueOrDefault<string>(), out var why))
            {
                r.AddError($"--host-id: {why} ({HostId.Allowed})");
            }
        });
        underlay.Validators.Add(r =>
        {
            if (Why(r.GetValueOrDefault<string>()) is { } why)
            {
                r.AddError("--underlay: " + why);
            }
        });
        ovsdb.Validators.Add(r =>
        {
            try
            {
                _ = Aether.Ovsdb.OvsdbEndpoint.Parse(r.GetValueOrDefault<string>() ?? string.Empty);
            }
            catch (FormatException ex)
            {
                r.AddError("--ovsdb: " + ex.Message);
            }
        });
        resync.Validators.Add(r =>
        {
            if (!Duration.TryParse(r.GetValueOrDefault<string>(), out _, out var why))
            {
                r.AddError("--resync: " + why);
            }
        });
        var command = new Command("agent", """
            Run one host's agent of labs across hosts: it registers the host in the database, says it is alive every
            2 s, and keeps the lab nodes placed on it (host: ID in the lab file) and their link ends: local links as
            veth pairs, links to other hosts as a VXLAN per end (its tunnel in this host's namespace, towards the
            other host's underlay); on the ovs fabric (--ovsdb), ends are ports of the lab's bridge tagged with the
            link's VLAN tag and one VXLAN port per remote host carries every link to it. It wakes on the database's notifications and passes on a timer anyway. Runs until
            SIGINT or SIGTERM; the labs' namespaces stay.
            Exit codes: 0 stopped by a signal, 1 failure, 2 invalid options.

            Examples:
              aether agent --db postgres://aether@db.example/aether --host-id h1 --underlay 192.0.2.11
              aether agent --db postgres://aether@db.example/aether --host-id h2 --underlay 192.0.2.12 --namespace h2
              aether agent --db postgres://aether@db.example/aether --host-id h3 --underlay 192.0.2.13 --ovsdb unix:/var/run/openvswitch/db.sock
            """)
        {
            db,
            hostId,
            underlay,
            ns,
            ovsdb,
            stateDir,
            resync,
        };
#if NATIVE_CLI
        command.SetAction(_ => ServeExec.Run());
#else
        command.SetAction((parse, _) => !OperatingSystem.IsLinux() ? Task.FromResult(ExitCodes.Failure) : Agent.RunAsync(
            parse.GetValue(db) ?? Environment.GetEnvironmentVariable("AETHER_DB"),
            HostId.Parse(parse.GetValue(hostId)!),
            IPAddress.Parse(parse.GetValue(underlay)!),
            parse.GetValue(ns),
            parse.GetValue(ovsdb) is { } endpoint ? Aether.Ovsdb.OvsdbEndpoint.Parse(endpoint) : null,
            parse.GetValue(stateDir),
            Duration.TryParse(parse.GetValue(resync), out var every, out string? _) ? every : TimeSpan.FromSeconds(30)));
#endif
        return command;
    }

    private static string? Why(string? text) =>
        !IPAddress.TryParse(text, out var address) ? $"'{text}' is not an IP address"
        : address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "the unspecified address cannot be a tunnel's end"
        : address.IsIPv6Multicast || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0) ? "a multicast address cannot be a tunnel's end"
        : null;
}
