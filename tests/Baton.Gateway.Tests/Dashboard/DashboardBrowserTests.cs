using Baton.Gateway.Tests.Auth;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.Playwright;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium driven by Playwright (its driver comes with the NuGet package;
/// no browser is downloaded), against a real gateway that real requests went through. Each test keeps a screenshot
/// in <c>artifacts/</c> of the test output folder.
/// </summary>
public sealed class DashboardBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Generous: the machine running the tests may be busy, and the page refreshes every two seconds.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 60_000 };

    [Fact]
    public async Task With_keys_the_page_asks_for_the_master_key_once_and_shows_the_live_figures()
    {
        await using var gateway = await AuthGateway.StartAsync();
        var (_, secret) = await gateway.CreateKeyAsync("""{"name":"browser-app"}""");
        await gateway.Sdk(secret, "gpt-sim").CompleteChatAsync("hello");
        await gateway.Sdk(secret, "gpt-sim").CompleteChatAsync("hello again");
        await foreach (var _ in gateway.Sdk(AuthGateway.MasterKey, "local-sim").CompleteChatStreamingAsync([new UserChatMessage("stream please")]))
        {
        }

        await using var browser = await BrowserAsync();
        var page = await browser.Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 1000 } });
        var problems = Watch(page);
        await page.GotoAsync(gateway.BaseUrl + "/dashboard");

        await Assertions.Expect(page.Locator("#key-form")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.Locator("#key").FillAsync(AuthGateway.MasterKey);
        await page.Locator("#connect").ClickAsync();

        await Assertions.Expect(page.Locator("#hour-requests")).ToHaveTextAsync("3", Soon);
        await Assertions.Expect(page.Locator("#live-requests")).ToHaveTextAsync("3", Soon);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("live", Soon);
        var model = page.Locator("#models-table tbody tr", new() { HasText = "gpt-sim" });
        await Assertions.Expect(model.Locator("td").Nth(1)).ToHaveTextAsync("2", Soon);
        await Assertions.Expect(page.Locator("#requests-table tbody tr")).ToHaveCountAsync(3, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#requests-table tbody tr").Last).ToContainTextAsync("browser-app", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#keys-table tbody")).ToContainTextAsync("browser-app", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#deployments-table tbody")).ToContainTextAsync("sim-http/baton-sim-1", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#chart-model-tokens path.line")).Not.ToHaveCountAsync(0, new() { Timeout = 60_000 });

        // Live: a request made now shows on the open page without reloading it.
        await gateway.Sdk(secret, "local-sim").CompleteChatAsync("one more");
        await Assertions.Expect(page.Locator("#hour-requests")).ToHaveTextAsync("4", Soon);
        await Screenshot(page, "dashboard.png");

        // The key is kept for the tab's session: a reload does not ask again.
        Assert.Equal(AuthGateway.MasterKey, await page.EvaluateAsync<string>("sessionStorage.getItem('baton.masterKey')"));
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('baton.masterKey')"));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#hour-requests")).ToHaveTextAsync("4", Soon);
        await Assertions.Expect(page.Locator("#key-form")).ToBeHiddenAsync();
        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_and_asked_for_again()
    {
        await using var gateway = await AuthGateway.StartAsync();
        await using var browser = await BrowserAsync();
        var page = await browser.Browser.NewPageAsync();
        await page.GotoAsync(gateway.BaseUrl + "/dashboard/");

        await page.Locator("#key").FillAsync("mk-not-the-key");
        await page.Locator("#connect").ClickAsync();

        await Assertions.Expect(page.Locator("#key-error")).ToContainTextAsync("Incorrect API key", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#key-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#main")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Without_keys_the_page_works_directly_on_loopback()
    {
        var gateway = new GatewayServer();
        await gateway.InitializeAsync();
        try
        {
            using var response = await gateway.Http.PostAsync("/v1/chat/completions", AuthGateway.Json(AuthGateway.Chat("local-sim")));
            response.EnsureSuccessStatusCode();

            await using var browser = await BrowserAsync();
            var page = await browser.Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 1000 } });
            var problems = Watch(page);
            await page.GotoAsync(gateway.BaseUrl + "/dashboard");

            await Assertions.Expect(page.Locator("#hour-requests")).ToHaveTextAsync("1", Soon);
            await Assertions.Expect(page.Locator("#requests-table tbody tr").First).ToContainTextAsync("local-sim", new() { Timeout = 60_000 });
            await Assertions.Expect(page.Locator("#key-form")).ToBeHiddenAsync();
            await Screenshot(page, "dashboard-no-keys.png");
            Assert.Empty(problems);
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    /// <summary>Console errors and uncaught exceptions of the page (a blocked resource or a script error shows there).</summary>
    private static List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            // The page's first poll is refused (401) until the key is entered: that is the browser reporting it, not a defect.
            if (message.Type == "error" && !message.Text.Contains("401", StringComparison.Ordinal))
            {
                lock (problems)
                {
                    problems.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (problems)
            {
                problems.Add(error);
            }
        };
        return problems;
    }

    private static async Task Screenshot(IPage page, string name)
    {
        var directory = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
        await page.ScreenshotAsync(new() { Path = Path.Combine(directory, name), FullPage = true });
    }

    private static async Task<OpenBrowser> BrowserAsync()
    {
        // CI installs Chromium (.ci/run); a machine without it must fail here, never pass by skipping.
        Assert.True(File.Exists(ChromiumPath), $"The dashboard's browser tests need Debian's Chromium at {ChromiumPath} (apt-get install chromium).");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
            });
            return new OpenBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    private sealed class OpenBrowser(IPlaywright playwright, IBrowser browser) : IAsyncDisposable
    {
        public IBrowser Browser => browser;

        public async ValueTask DisposeAsync()
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }
}
