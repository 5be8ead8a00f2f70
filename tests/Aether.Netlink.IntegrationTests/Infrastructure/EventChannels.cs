using System.Threading.Channels;
using Aether.Netlink.Monitoring;

namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>Monitor streams as channels, so that a test can wait on them with timeouts.</summary>
internal static class EventChannels
{
    /// <summary>Moves the stream into a channel; the channel completes when the stream ends (with its error, unless
    /// it was cancelled).</summary>
    public static ChannelReader<NetlinkEvent> Pump(IAsyncEnumerable<NetlinkEvent> stream)
    {
        var channel = Channel.CreateUnbounded<NetlinkEvent>();
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in stream)
                {
                    await channel.Writer.WriteAsync(e);
                }

                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex is OperationCanceledException ? null : ex);
            }
        });
        return channel.Reader;
    }

    /// <summary>The events read up to and including the first that <paramref name="last"/> matches.</summary>
    public static async Task<List<NetlinkEvent>> TakeUntilAsync(ChannelReader<NetlinkEvent> events, Func<NetlinkEvent, bool> last, CancellationToken token)
    {
        var taken = new List<NetlinkEvent>();
        while (true)
        {
            var e = await events.ReadAsync(token);
            taken.Add(e);
            if (last(e))
            {
                return taken;
            }
        }
    }
}
