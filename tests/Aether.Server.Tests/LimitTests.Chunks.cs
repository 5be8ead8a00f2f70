using System.Text;

namespace Aether.Server.Tests;

/// <summary>Found by the HTTP fuzzer: a chunk size that overflows made Kestrel's chunked-body parser throw a plain
/// IOException in the handler, answered 500. Now 400, and the hub never hears of the request.</summary>
public sealed partial class LimitTests
{
    [Theory]
    [InlineData("ffffffffffffffff\r\nab\r\n0\r\n\r\n")]
    [InlineData("fffffffffffffffffffffffff\r\nab\r\n0\r\n\r\n")]
    [InlineData("zz\r\nab\r\n0\r\n\r\n")]
    [InlineData("2\r\nabcdef\r\n0\r\n\r\n")]
    public async Task A_malformed_chunked_body_gets_400_not_500_and_reaches_nothing(string chunks)
    {
        var app = Build();
        await using (app)
        {
            await app.StartAsync();
            foreach (var head in new[]
            {
                PostHead("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"),
                "POST /v1/labs HTTP/1.1\r\nHost: aether\r\nContent-Type: application/yaml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            })
            {
                var status = await RawHttp.ExchangeAsync(Socket, head, [Encoding.ASCII.GetBytes(chunks)]);
                Assert.True(status == 400, $"{head.Split('\r')[0]} with chunks {chunks.Split('\r')[0]}: {status}");
            }

            Assert.Empty(_hub.Mutations);
        }
    }
}
