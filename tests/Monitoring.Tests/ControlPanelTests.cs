using Microsoft.Playwright;
using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The control panel in headless Chromium (Debian's <c>chromium</c>, driven through Playwright).</summary>
public sealed class ControlPanelTests(PrometheusFarm farm) : IClassFixture<PrometheusFarm>
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    [Fact]
    public async Task ShowsTheRolloutAndRollsBackOnlyWithTheKeyAndAConfirmation()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        // an L1 far under its budget: the memory chart's values are thousandths of a percent
        env.Target.SetMemory(sizeBytes: 40_000, budgetBytes: 8L << 30);
        for (var i = 0; i < 3; i++)
        {
            env.HealthyTraffic();
            await env.Target.WaitForScrapesAsync(2);
        }

        var settings = env.Settings();
        settings["Monitoring:Guard:Window"] = "00:01:00";
        await using var app = await MonitoringApp.StartAsync(settings);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = OptimizedCache.Testing.ServerProcess.Locate("chromium", "chromium"),
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        await page.GotoAsync(new Uri(app.BaseAddress, "/?range=2m").ToString());

        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("#features tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#targets tbody tr")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("[data-target=hit_rate] .status")).ToHaveTextAsync("pass");
        await Assertions.Expect(page.Locator("[data-target=hit_rate] .value")).ToContainTextAsync("%");
        await Assertions.Expect(page.Locator("#triggers tbody tr")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("[data-trigger=hit_ratio] .state")).ToHaveTextAsync("ok");
        await Assertions.Expect(page.Locator("#guard-status")).ToHaveTextAsync("guard: healthy");
        foreach (var chart in new[] { "hit_ratio", "latency", "origin_calls", "memory" })
        {
            await Assertions.Expect(page.Locator($".chart[data-metric={chart}] svg .series").First).ToBeAttachedAsync();
        }

        await Assertions.Expect(page.Locator(".chart[data-metric=latency] .legend span")).ToHaveCountAsync(2);

        // readable axes: distinct round labels with the unit, even for tiny values
        var memoryTicks = await page.Locator(".chart[data-metric=memory] .y-tick").AllTextContentsAsync();
        Assert.True(memoryTicks.Count >= 3 && memoryTicks.Distinct().Count() == memoryTicks.Count, "memory axis: " + string.Join(" | ", memoryTicks));
        Assert.All(memoryTicks, t => Assert.EndsWith("%", t, StringComparison.Ordinal));
        Assert.Contains(memoryTicks, t => t != "0%" && !t.StartsWith("0.00%", StringComparison.Ordinal));
        var lastTime = page.Locator(".chart[data-metric=latency] .x-tick").Last;
        Assert.Equal("end", await lastTime.GetAttributeAsync("text-anchor"));
        await Assertions.Expect(page.Locator("#history tbody tr").First).ToBeAttachedAsync();

        // No key: nothing is sent.
        await page.ClickAsync("#rollback-current");
        await Assertions.Expect(page.Locator("#action-result")).ToHaveTextAsync("Type the API key first.");

        // Key typed, confirmation cancelled: nothing is sent.
        await page.FillAsync("#api-key", FakeAdminApi.Key);
        await page.ClickAsync("#rollback-complete");
        await Assertions.Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await page.ClickAsync("#confirm-cancel");
        await Assertions.Expect(page.Locator("#action-result")).ToContainTextAsync("cancelled");
        Assert.Empty(env.Api.Rollbacks);

        // Key typed and confirmed: the rollback reaches the Api once, with the panel as the actor.
        await page.FillAsync("#reason", "checking the panel");
        await page.ClickAsync("#rollback-current");
        await Assertions.Expect(page.Locator("#confirm-text")).ToContainTextAsync("phase 2 → phase 1");
        await page.ClickAsync("#confirm-ok");
        await Assertions.Expect(page.Locator("#action-result")).ToContainTextAsync("done, now at phase 1");
        var rollback = Assert.Single(env.Api.Rollbacks);
        Assert.Equal(("current", "control-panel", "checking the panel", FakeAdminApi.Key), (rollback.Scope, rollback.Actor, rollback.Reason, rollback.ApiKey));
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync("1", new() { Timeout = 10_000 });
        Assert.Equal(2, rollback.From);

        // the audit shows who changed what, from which phase to which, and why
        await Assertions.Expect(page.Locator("#audit tbody tr").First).ToContainTextAsync("control-panel", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#audit tbody tr").First).ToContainTextAsync("phase 2 → 1");
        await Assertions.Expect(page.Locator("#audit tbody tr").First).ToContainTextAsync("checking the panel");
        var screenshot = Path.Combine(AppContext.BaseDirectory, "control-panel.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        if (Environment.GetEnvironmentVariable("OC_PANEL_SCREENSHOT") is { Length: > 0 } copy)
        {
            File.Copy(screenshot, copy, overwrite: true);
        }

        Assert.Empty(errors);
        Assert.All(requests, url => Assert.StartsWith(app.BaseAddress.GetLeftPart(UriPartial.Authority), url, StringComparison.Ordinal));
    }
}
