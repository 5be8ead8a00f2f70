using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aether.Server.Tests.Labs;

namespace Aether.Server.Tests.Ui;

/// <summary>
/// The web view's server side without a browser: over TCP the page and its assets come without the token and carry a
/// policy that loads nothing from elsewhere, while its data (<c>/v1/ui/...</c>) needs the token like the rest of
/// <c>/v1</c>; the lab view has both ends' kernel facts, checked against <c>ip -j -d</c>; the event stream sends the
/// overview and the lab, and a new <c>lab</c> event after a link is broken with <c>ip</c>.
/// </summary>
public sealed class UiApiTests : LabApiTest
{
    protected override bool Runtimes => false;

    protected override Task SetUpAsync()
    {
        Listen = new Uri($"http://127.0.0.1:{Browser.FreePort()}");
        return base.SetUpAsync();
    }

    [Fact]
    public async Task The_page_is_public_and_its_data_needs_the_token()
    {
        using var tcp = new HttpClient { BaseAddress = Listen };
        using var page = await tcp.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("/ui/assets/", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html.Replace("http-equiv", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal); // nothing from elsewhere
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());

        var script = System.Text.RegularExpressions.Regex.Match(html, "/ui/assets/[^\"]+\\.js").Value;
        using var asset = await tcp.GetAsync(script);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", asset.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await tcp.GetAsync("/ui/nothing.js")).StatusCode);

        // Data: 401 without the token, over TCP; the page's HTML is not a way around it (a POST to /ui is not public).
        Assert.Equal(HttpStatusCode.Unauthorized, (await tcp.GetAsync("/v1/ui/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tcp.GetAsync($"/v1/ui/labs/{Lab}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tcp.PostAsync("/ui/", null)).StatusCode);
        tcp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.NotFound, (await tcp.GetAsync($"/v1/ui/labs/{Lab}")).StatusCode); // not deployed yet
    }

    [Fact]
    public async Task The_lab_view_has_both_ends_kernel_facts()
    {
        await DeployAsync(Yaml());
        var view = await ExpectAsync(await Client.GetAsync($"/v1/ui/labs/{Lab}"), HttpStatusCode.OK);
        Assert.Equal(["h1", "r1", "r2"], view.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.All(view.GetProperty("nodes").EnumerateArray(), n => Assert.Equal(Environment.MachineName, n.GetProperty("host").GetString()));
        var link = view.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("id").GetString() == "r1:eth1-r2:eth1");
        Assert.Equal("up", link.GetProperty("state").GetString());
        foreach (var (end, ns, vendor) in new[] { ("a", Ns("r1"), "Ethernet1"), ("b", Ns("r2"), "ge-0/0/0") })
        {
            var e = link.GetProperty(end);
            var oracle = await Ip.RequireLinkAsync(ns, "eth1");
            Assert.Equal(vendor, e.GetProperty("vendor").GetString());
            Assert.Equal("eth1", e.GetProperty("linux").GetString());
            Assert.Equal(ns, e.GetProperty("namespace").GetString());
            Assert.Equal(Ip.Int(oracle, "ifindex"), e.GetProperty("kernel").GetProperty("index").GetInt32());
            Assert.Equal(Ip.Int(oracle, "link_index"), e.GetProperty("peerIndex").GetInt32());
            Assert.True(e.GetProperty("kernel").GetProperty("carrier").GetBoolean());
        }

        Assert.Equal("r2:ge-0/0/0", link.GetProperty("a").GetProperty("peer").GetString());
    }

    [Fact]
    public async Task The_stream_sends_the_lab_again_when_the_kernel_changes()
    {
        await DeployAsync(Yaml());
        using var tcp = new HttpClient { BaseAddress = Listen, Timeout = Timeout.InfiniteTimeSpan };
        tcp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await tcp.GetAsync($"/v1/ui/events?lab={Lab}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        async Task<JsonElement> NextAsync(string name)
        {
            string? eventName = null;
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    eventName = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == name)
                {
                    return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                }
            }

            throw new EndOfStreamException("the stream ended");
        }

        var overview = await NextAsync("overview");
        Assert.Contains(overview.GetProperty("labs").EnumerateArray(), l => l.GetProperty("lab").GetString() == Lab);
        Assert.Equal("test", overview.GetProperty("status").GetProperty("version").GetString());
        var first = await NextAsync("lab");
        Assert.All(first.GetProperty("links").EnumerateArray(), l => Assert.Equal("up", l.GetProperty("state").GetString()));

        await Ip.RunAsync("-n", Ns("r2"), "link", "set", "eth1", "down");
        var clock = Stopwatch.StartNew();
        var next = await NextAsync("lab");
        var link = next.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("id").GetString() == "r1:eth1-r2:eth1");
        Assert.Equal("error", link.GetProperty("state").GetString());
        Assert.False(link.GetProperty("b").GetProperty("kernel").GetProperty("up").GetBoolean());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the lab event came {clock.Elapsed.TotalMilliseconds:F0} ms after the change");
    }
}
