using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Nftables;

namespace Aether.Netlink.IntegrationTests;

[CollectionDefinition(nameof(NftablesDescriptorTests), DisableParallelization = true)]
public sealed class NftablesDescriptorCollection
{
}

/// <summary>libnftables with the process holding over a thousand descriptors. It runs alone: taking every descriptor
/// below 1100 starves whatever else in the process opens one meanwhile (another test's nftables monitor, moved below
/// 1024 for libnftables' select(), failed to open once and its loop missed a change).</summary>
[Collection(nameof(NftablesDescriptorTests))]
public sealed class NftablesDescriptorTests : SandboxTest
{
    [Fact]
    public async Task Transactions_work_when_the_process_holds_over_a_thousand_descriptors()
    {
        // libnftables waits on its socket with select(): a socket at descriptor 1024 or above would abort the process.
        var ns = Box.CreateNamespace("n");
        using var nft = NftContext.OpenAt(ns);
        var held = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>();
        try
        {
            // Until a descriptor above 1100 comes back: the kernel hands out the lowest free one, so by then every lower
            // one is taken (other tests in this process open and close descriptors meanwhile, leaving holes that a fixed
            // count of opens would fill instead).
            while (held.Count < 20000 && (held.Count == 0 || held[^1].DangerousGetHandle() < 1100))
            {
                held.Add(File.OpenHandle("/dev/null"));
            }

            Assert.True(held[^1].DangerousGetHandle() >= 1100, $"only reached descriptor {held[^1].DangerousGetHandle()}");
            for (var i = 0; i < 3; i++)
            {
                var table = new NftTable(NftFamily.Inet, "aether-" + Box.Token, [NftChain.NatPostrouting([NftRule.Masquerade(IPPrefix.Parse($"10.{i}.0.0/16"), "eth0")])]);
                nft.ReplaceTable(table);
                Assert.True(table.ContentEquals(nft.GetTable(NftFamily.Inet, table.Name)));
            }

            nft.DeleteTable(NftFamily.Inet, "aether-" + Box.Token);
        }
        finally
        {
            held.ForEach(h => h.Dispose());
        }

        Assert.Empty(await Nft.RulesetAsync(ns.Name!));
    }
}
