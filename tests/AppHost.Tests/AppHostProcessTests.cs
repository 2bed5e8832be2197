using System.Diagnostics;
using Microsoft.Playwright;
using OptimizedCache.Testing;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// The AppHost as a person runs it (<c>dotnet OptimizedCache.AppHost.dll</c>, with its dashboard, a run folder of its
/// own): the dashboard shows every resource running, the run folder reports them, no secret reaches any process'
/// arguments, and a SIGTERM stops everything it started. The dashboard's screenshot is kept beside the test binaries
/// (and copied to <c>$OC_DASHBOARD_SCREENSHOT</c> when set: that is how <c>docs/aspire-dashboard.png</c> is made).
/// </summary>
[Collection(AppHostCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AppHostProcessTests
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TheDashboardShowsEveryResourceRunningNoSecretIsInAnyArgumentAndSigtermStopsEverything()
    {
        var configuration = typeof(AppHostProcessTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var appHost = Path.Combine(AppContext.BaseDirectory, "OptimizedCache.AppHost.dll");
        Assert.True(File.Exists(appHost), $"{appHost} is missing ({configuration} build)");
        var run = Path.Combine(Path.GetTempPath(), "oc-apphost-" + Guid.NewGuid().ToString("N")[..12]);
        var adminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var output = new List<string>();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { appHost, "AppHost:Containers=false", $"AppHost:RunDirectory={run}" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Parameters__admin-api-key"] = adminKey;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        start.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.Add(e.Data ?? ""); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.Add(e.Data ?? ""); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = Path.Combine(run, "ready");
            var deadline = DateTime.UtcNow + StartupTimeout;
            while (!File.Exists(ready))
            {
                Assert.False(process.HasExited, "the AppHost exited:\n" + string.Join('\n', output.TakeLast(30)));
                Assert.True(DateTime.UtcNow < deadline, "the AppHost did not report ready:\n" + string.Join('\n', output.TakeLast(30)));
                await Task.Delay(250);
            }

            var urls = File.ReadAllLines(Path.Combine(run, "urls")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.Equal(["api-1", "api-2", "aspire-dashboard", "cache", "monitoring", "prometheus", "store"], urls.Keys.Order(StringComparer.Ordinal));
            Assert.True(File.Exists(Path.Combine(run, "logs", "api-1.log")), "no log of api-1 in the run folder");

            // the Redis password lives in a file only this user reads; neither secret is in any process' arguments
            var redisConfig = Path.Combine(run, "cache", "redis.conf");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(redisConfig));
            var password = File.ReadAllLines(redisConfig).Single(l => l.StartsWith("requirepass ", StringComparison.Ordinal))["requirepass ".Length..];
            Assert.True(password.Length >= 16, "the generated Redis password is short");
            foreach (var commandLine in AllCommandLines())
            {
                Assert.DoesNotContain(password, commandLine, StringComparison.Ordinal);
                Assert.DoesNotContain(adminKey, commandLine, StringComparison.Ordinal);
            }

            await DashboardShowsEveryResourceRunningAsync(output, urls.Keys.Where(k => k != "aspire-dashboard"));

            var ports = urls.Values.Select(u => u.Contains("://", StringComparison.Ordinal) ? new Uri(u).Port : int.Parse(u.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.All(ports, port => Assert.True(Accepts(port), $"port {port} does not accept before the stop"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(StopTimeout);
            await process.WaitForExitAsync(wait.Token);
            var stillOpen = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (ports.Any(Accepts) && DateTime.UtcNow < stillOpen)
            {
                await Task.Delay(250);
            }

            Assert.All(ports, port => Assert.False(Accepts(port), $"port {port} still accepts after the AppHost stopped"));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            try
            {
                Directory.Delete(run, recursive: true);
            }
            catch (IOException)
            {
                // best effort: it is under the temp folder
            }
        }
    }

    private static async Task DashboardShowsEveryResourceRunningAsync(List<string> output, IEnumerable<string> resources)
    {
        string login;
        lock (output)
        {
            login = output.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Login to the dashboard at (\S+)")).First(m => m.Success).Groups[1].Value;
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
        var screenshot = Path.Combine(AppContext.BaseDirectory, "aspire-dashboard.png");
        string[] notRunning = [.. resources];
        try
        {
            await page.GotoAsync(login);

            // every row of the resource grid says Running (Grafana, not installed here, says why instead); the page is
            // a live Blazor circuit that can be slow to fill on a loaded 2-core machine, so it is read until it shows
            // them, and reloaded when it stays empty
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
            var reloadAt = DateTime.UtcNow + TimeSpan.FromSeconds(40);
            while (notRunning.Length > 0 && DateTime.UtcNow < deadline)
            {
                var rows = await page.Locator("fluent-data-grid-row, [role=row]").AllInnerTextsAsync();
                notRunning = [.. resources.Where(r => !rows.Any(t => t.Contains(r, StringComparison.Ordinal) && t.Contains("Running", StringComparison.Ordinal)))];
                if (notRunning.Length == 0)
                {
                    break;
                }

                if (DateTime.UtcNow > reloadAt)
                {
                    await page.ReloadAsync();
                    reloadAt = DateTime.UtcNow + TimeSpan.FromSeconds(40);
                }

                await Task.Delay(500);
            }
        }
        finally
        {
            await page.ScreenshotAsync(new() { Path = screenshot });
        }

        if (Environment.GetEnvironmentVariable("OC_DASHBOARD_SCREENSHOT") is { Length: > 0 } copy)
        {
            File.Copy(screenshot, copy, overwrite: true);
        }

        Assert.True(notRunning.Length == 0, $"the dashboard does not show these as running: {string.Join(", ", notRunning)} (screenshot: {screenshot})");
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static IEnumerable<string> AllCommandLines()
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            yield return text;
        }
    }
}
