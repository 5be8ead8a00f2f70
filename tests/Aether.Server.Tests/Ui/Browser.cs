using System.Net;
using Microsoft.Playwright;

namespace Aether.Server.Tests.Ui;

/// <summary>
/// Debian's chromium (<c>/usr/bin/chromium</c>), headless, driven by Playwright's driver (shipped in the NuGet
/// package; no browser is ever downloaded), in a fresh profile (Playwright makes one per launch), with everything that
/// would reach out to the network switched off. Every request a page makes is routed here: one to anything but the
/// daemon's address is refused and recorded, so a test can assert the page loaded nothing from elsewhere.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>Requests the pages made to anything but the daemon (refused).</summary>
    public List<string> Foreign { get; } = [];

    public static async Task<Browser> LaunchAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assert.True(File.Exists(Executable), $"{Executable} is missing: apt-get install --no-install-recommends chromium (test.sh installs it)");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Args = Args,
                Timeout = 60_000,
            });
            return new Browser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page in a fresh context of <paramref name="width"/>×<paramref name="height"/>, its requests limited
    /// to <paramref name="daemon"/>.</summary>
    public async Task<IPage> PageAsync(Uri daemon, int width, int height)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await context.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "data" or "blob" || (string.Equals(url.Host, daemon.Host, StringComparison.Ordinal) && url.Port == daemon.Port))
            {
                await route.ContinueAsync();
                return;
            }

            lock (Foreign)
            {
                Foreign.Add(route.Request.Url);
            }

            await route.AbortAsync();
        });
        return await context.NewPageAsync();
    }

    /// <summary>A free loopback TCP port (bound and released: the daemon takes it next).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
