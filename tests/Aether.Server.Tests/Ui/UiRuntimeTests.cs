using System.Net;
using System.Text.Json;
using Aether.Server.Tests.Labs;

namespace Aether.Server.Tests.Ui;

/// <summary>The web view's stream with the lab runtime on (as <c>aether serve</c> runs by default): an end deleted
/// with <c>ip</c> is repaired by the runtime, and the stream sends the lab whole again with the runtime's report of the
/// repair, without anyone asking.</summary>
public sealed class UiRuntimeTests : LabApiTest
{
    [Fact]
    public async Task The_stream_follows_the_runtimes_repair()
    {
        await DeployAsync(Yaml());
        using var client = Unix.Client(Path.Combine(Dir, "aether.sock"));
        client.Timeout = Timeout.InfiniteTimeSpan;
        using var response = await client.GetAsync($"/v1/ui/events?lab={Lab}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        async Task<JsonElement> NextLabAsync()
        {
            string? name = null;
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && name == "lab")
                {
                    return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                }
            }

            throw new EndOfStreamException();
        }

        static bool AllUp(JsonElement view) => view.GetProperty("links").EnumerateArray().All(l => l.GetProperty("state").GetString() == "up");

        var first = await NextLabAsync();
        Assert.True(AllUp(first));
        Assert.Equal("running", first.GetProperty("runtime").GetProperty("state").GetString());
        var index = Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex");

        await Ip.RunAsync("-n", Ns("r1"), "link", "del", "eth1");
        JsonElement view;
        do
        {
            view = await NextLabAsync();
        }
        while (!(AllUp(view) && view.GetProperty("runtime").GetProperty("lastReport") is { ValueKind: JsonValueKind.Object } report
            && report.GetProperty("trigger").GetString() == "repair"));

        await AssertVethAsync(Ns("r1"), "eth1", Ns("r2"), "eth1");
        var link = view.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("id").GetString() == "r1:eth1-r2:eth1");
        Assert.NotEqual(index, link.GetProperty("a").GetProperty("kernel").GetProperty("index").GetInt32()); // a new veth
        Assert.Equal(Ip.Int(await Ip.RequireLinkAsync(Ns("r1"), "eth1"), "ifindex"), link.GetProperty("a").GetProperty("kernel").GetProperty("index").GetInt32());
    }
}
