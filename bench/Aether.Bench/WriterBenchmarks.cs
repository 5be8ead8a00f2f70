using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Running;
using Aether.Netlink;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Bench;

/// <summary>Message building: time and bytes allocated per message (the memory diagnoser must show 0 B).</summary>
[MemoryDiagnoser]
public class WriterBenchmarks
{
    private readonly LinkSpec _veth = new("veth-host", new Veth("veth-ns")) { Up = true, Mtu = 1500 };
    private readonly AddressSpec _address = new(7, IPPrefix.Parse("10.200.0.1/30"));
    private readonly Route _route = new() { Destination = IPPrefix.Parse("10.9.0.0/16"), Gateway = System.Net.IPAddress.Parse("10.200.0.2"), Metric = 100 };

    public static int Run(string[] args)
    {
        // In-process: the benchmark needs the library's internal codecs, and a separate build of this project is not needed.
        var job = (args.Contains("--long") ? Job.Default : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
        var config = DefaultConfig.Instance.AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<WriterBenchmarks>(config);
        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }

    [Benchmark]
    public int CreateVeth()
    {
        var writer = new NetlinkWriter(512);
        Link.WriteCreate(ref writer, _veth, 1, 0);
        var length = writer.Length;
        writer.Dispose();
        return length;
    }

    [Benchmark]
    public int AddAddress()
    {
        var writer = new NetlinkWriter(256);
        Address.Write(ref writer, RtmType.NewAddr, NlmsgFlags.Create | NlmsgFlags.Excl, _address, 1, 0);
        var length = writer.Length;
        writer.Dispose();
        return length;
    }

    [Benchmark]
    public int AddRoute()
    {
        var writer = new NetlinkWriter(256);
        Route.Write(ref writer, RtmType.NewRoute, NlmsgFlags.Create | NlmsgFlags.Excl, _route, 1, 0);
        var length = writer.Length;
        writer.Dispose();
        return length;
    }
}
