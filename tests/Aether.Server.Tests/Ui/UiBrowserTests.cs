using System.Diagnostics;
using System.Text.Json;
using Aether.Server.Tests.Labs;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Aether.Server.Tests.Ui;

/// <summary>
/// The web view end to end, in a real browser against a real lab: the daemon on its socket and on loopback TCP with a
/// token, a lab deployed through the API, Debian's chromium at <c>/ui</c>. The token is typed once into the page; the
/// graph shows every node and every link up; a link broken with <c>ip</c> turns red within 1 s of the command (the
/// kernel's link events, pushed by the server), and green after <c>ip</c> repairs it; a link set down from the page
/// (by keyboard) is down in the kernel, and up again; a deleted end is red, and the page's Reconcile repairs it. No
/// lab runtime runs, so what the test breaks stays broken until the test or the page repairs it. With
/// <c>AETHER_UI_SCREENSHOTS=DIR</c> the screenshots go to DIR (the README's is made so), else to the test's directory.
/// </summary>
public sealed class UiBrowserTests(ITestOutputHelper output) : LabApiTest
{
    private const string Core = "r1:eth1-r2:eth1";
    private const string Edge = "h1:eth1-r1:eth2";

    protected override bool Runtimes => false;

    protected override Task SetUpAsync()
    {
        Listen = new Uri($"http://127.0.0.1:{Browser.FreePort()}");
        return base.SetUpAsync();
    }

    private static string Row(string link, string? state = null) =>
        $"#links tr[data-link='{link}']" + (state is null ? string.Empty : $"[data-state='{state}']");

    [Fact]
    public async Task The_page_shows_the_lab_live_and_sets_links_down_and_up()
    {
        await DeployAsync(Yaml());
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PageAsync(Listen!, 1280, 800);
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };

        // The page loads without the token, asks for it, and keeps it for the tab (never in the URL).
        await page.GotoAsync(Listen + "ui/");
        await page.Locator("#token").WaitForAsync();
        await page.FillAsync("#token", Token);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator(Row(Core, "up")).WaitForAsync(new() { Timeout = 15_000 });
        await page.Locator(Row(Edge, "up")).WaitForAsync();
        Assert.All(errors, e => Assert.Contains("401", e, StringComparison.Ordinal)); // the stream's first try, before the token
        errors.Clear();
        Assert.DoesNotContain(Token, page.Url, StringComparison.Ordinal);
        Assert.Equal(Token, await page.EvaluateAsync<string>("sessionStorage.getItem('aether-token')"));

        // The graph: every node, every link up.
        var graph = page.Locator("#graph");
        Assert.Equal(["h1", "r1", "r2"], (await graph.GetAttributeAsync("data-nodes"))!.Split(',').Order(StringComparer.Ordinal));
        Assert.Equal(new Dictionary<string, string> { [Core] = "up", [Edge] = "up" }, GraphStates(await graph.GetAttributeAsync("data-states")));
        Assert.Contains("3 nodes, 2 links: 2 up", await page.InnerTextAsync("#lab-summary"), StringComparison.Ordinal);

        // Broken with ip: red within 1 s of the kernel change, with why; repaired with ip: green within 1 s.
        var red = await TimeAsync(page, () => Ip.RunAsync("-n", Ns("r1"), "link", "set", "eth1", "down"), Row(Core, "error"));
        Assert.Contains("error", GraphStates(await graph.GetAttributeAsync("data-states"))[Core], StringComparison.Ordinal);
        Assert.NotEmpty((await page.InnerTextAsync(Row(Core) + " td:nth-child(3)")).Trim());
        var green = await TimeAsync(page, () => Ip.RunAsync("-n", Ns("r1"), "link", "set", "eth1", "up"), Row(Core, "up"));
        output.WriteLine($"red {red.TotalMilliseconds:F0} ms after `ip link set down` returned, green {green.TotalMilliseconds:F0} ms after `ip link set up`");
        Assert.True(red < TimeSpan.FromSeconds(1), $"red after {red.TotalMilliseconds:F0} ms");
        Assert.True(green < TimeSpan.FromSeconds(1), $"green after {green.TotalMilliseconds:F0} ms");

        // Set down from the page, by keyboard: both ends down in the kernel; then up again.
        await page.FocusAsync(Row(Core) + " button[data-action='down']");
        await page.Keyboard.PressAsync("Enter");
        await page.Locator(Row(Core, "down")).WaitForAsync(new() { Timeout = 10_000 });
        Assert.True(await EventuallyAsync(async () => !await IsUpAsync(Ns("r1"), "eth1") && !await IsUpAsync(Ns("r2"), "eth1"), TimeSpan.FromSeconds(5)), "the kernel does not show both ends down");
        Assert.Equal("down", GraphStates(await graph.GetAttributeAsync("data-states"))[Core]);
        await page.ClickAsync(Row(Core) + " button[data-action='up']");
        await page.Locator(Row(Core, "up")).WaitForAsync(new() { Timeout = 10_000 });
        Assert.True(await IsUpAsync(Ns("r1"), "eth1") && await IsUpAsync(Ns("r2"), "eth1"));

        // An end deleted with ip: red, its details say what the kernel holds; Reconcile repairs it and counts it.
        await TimeAsync(page, () => Ip.RunAsync("-n", Ns("h1"), "link", "del", "eth1"), Row(Edge, "error"));
        await page.ClickAsync(Row(Edge) + " button.linklike");
        var details = await page.InnerTextAsync("#details");
        Assert.Contains($"nothing named eth1 in {Ns("h1")}", details, StringComparison.Ordinal);
        Assert.Contains($"nothing named eth2 in {Ns("r1")}", details, StringComparison.Ordinal);
        await ScreenshotAsync(page, "ui-lab.png");
        await page.ClickAsync("#reconcile");
        await page.Locator("#action-status", new() { HasTextString = "repaired 1" }).WaitForAsync(new() { Timeout = 15_000 });
        await page.Locator(Row(Edge, "up")).WaitForAsync(new() { Timeout = 5_000 });
        await AssertVethAsync(Ns("r1"), "eth2", Ns("h1"), "eth1", mtu: 9000);
        await page.ClickAsync(Row(Core) + " button.linklike");
        Assert.Contains("carrier", await page.InnerTextAsync("#details"), StringComparison.Ordinal);

        // Readable on a phone: nothing wider than the screen, the same rows.
        var phone = await browser.PageAsync(Listen!, 390, 844);
        await phone.GotoAsync(Listen + "ui/");
        await phone.FillAsync("#token", Token);
        await phone.ClickAsync("#token-form button[type=submit]");
        await phone.Locator(Row(Core, "up")).WaitForAsync(new() { Timeout = 15_000 });
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than a phone");
        await ScreenshotAsync(phone, "ui-phone.png");

        Assert.Empty(browser.Foreign);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    /// <summary>Runs <paramref name="change"/>, then waits for <paramref name="selector"/>: the time from the
    /// change's return (the kernel changed) to the page showing it.</summary>
    private static async Task<TimeSpan> TimeAsync(IPage page, Func<Task> change, string selector)
    {
        await change();
        var clock = Stopwatch.StartNew();
        await page.Locator(selector).WaitForAsync(new() { Timeout = 10_000 });
        return clock.Elapsed;
    }

    private static Dictionary<string, string> GraphStates(string? json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json ?? "{}")!;

    private async Task ScreenshotAsync(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("AETHER_UI_SCREENSHOTS") is { Length: > 0 } chosen ? chosen : Dir;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name) });
    }
}
