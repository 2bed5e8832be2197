using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// The launcher starts six processes; run alone so that they do not slow the other tests' timed steps (the
/// rollout's one-second propagation) on a small machine.
/// </summary>
[CollectionDefinition(nameof(RunLocalTests), DisableParallelization = true)]
public sealed class RunLocalCollection;

/// <summary>
/// Drives <c>./run-local.sh</c> end to end against the binaries the test run was built with (<c>--no-build</c>,
/// this assembly's configuration): the whole topology comes up, the cache works on a replica, Monitoring
/// serves its control panel, Prometheus scrapes both replicas, and a SIGTERM leaves no process behind.
/// </summary>
[Collection(nameof(RunLocalTests))]
public sealed class RunLocalTests
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheLauncherStartsTheWholeSystemAndLeavesNothingBehindWhenStopped()
    {
        var repo = RepositoryRoot();
        var configuration = typeof(RunLocalTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var monitoringDll = Path.Combine(repo, "Monitoring", "bin", configuration, "net10.0", "OptimizedCache.Monitoring.dll");
        Assert.True(File.Exists(monitoringDll), $"{monitoringDll} is missing: build the solution first (./test.sh does, with -c Release).");

        var runDir = Path.Combine(Path.GetTempPath(), "oc-run-local-" + Guid.NewGuid().ToString("N")[..12]);
        var log = new BoundedLog(400);
        var launcher = ServerProcess.Start(
            "bash",
            [Path.Combine(repo, "run-local.sh"), "--no-build", "-c", configuration, "--phase", "3", "--run-dir", runDir, "--timeout", "50"],
            log,
            repo);
        var stopped = false;
        try
        {
            await WaitForAsync(() => File.Exists(Path.Combine(runDir, "ready")), StartupTimeout, launcher, log, "the launcher to report every part healthy");
            var urls = File.ReadAllLines(Path.Combine(runDir, "urls"))
                .Select(line => line.Split('=', 2))
                .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
            var adminKey = (await File.ReadAllTextAsync(Path.Combine(runDir, "admin-api-key"))).Trim();
            Assert.Equal(32, adminKey.Length);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

            // The cache at phase 3: the same replica misses, then hits.
            var product = Random.Shared.Next(1, 2000).ToString(CultureInfo.InvariantCulture);
            using (var first = await http.GetAsync($"{urls["api-1"]}/api/products/{product}"))
            using (var second = await http.GetAsync($"{urls["api-1"]}/api/products/{product}"))
            {
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
                Assert.Equal("MISS", first.CacheHeader());
                Assert.Equal(HttpStatusCode.OK, second.StatusCode);
                Assert.Equal("HIT", second.CacheHeader());
            }

            // Both replicas share the launcher's origin server and its admin key.
            using (var origin = new HttpRequestMessage(HttpMethod.Get, $"{urls["api-2"]}/admin/origin"))
            {
                origin.Headers.Add("X-Api-Key", adminKey);
                using var response = await http.SendAsync(origin);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(new Uri(urls["store"] + "/"), new Uri((await response.JsonAsync()).GetProperty("url").GetString()!));
            }

            using (var health = await http.GetAsync($"{urls["monitoring"]}/health"))
            {
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }

            // Monitoring's control panel.
            using (var panel = await http.GetAsync($"{urls["monitoring"]}/"))
            {
                Assert.Equal(HttpStatusCode.OK, panel.StatusCode);
                Assert.Equal("text/html", panel.Content.Headers.ContentType?.MediaType);
                Assert.Contains("<html", await panel.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            }

            // Prometheus scrapes each replica on its own.
            var prometheus = urls["prometheus"];
            JsonElement up = default;
            await WaitForAsync(
                async () =>
                {
                    var answer = await (await http.GetAsync($"{prometheus}/api/v1/query?query={Uri.EscapeDataString("up{job=\"api\"} == 1")}")).JsonAsync();
                    up = answer.GetProperty("data").GetProperty("result");
                    return up.GetArrayLength() == 2;
                },
                ScrapeTimeout,
                launcher,
                log,
                "Prometheus to scrape both Api replicas");
            Assert.Equal(
                new[] { new Uri(urls["api-1"]).Authority, new Uri(urls["api-2"]).Authority }.Order(StringComparer.Ordinal),
                up.EnumerateArray().Select(s => s.GetProperty("metric").GetProperty("instance").GetString()!).Order(StringComparer.Ordinal));

            // SIGTERM: everything the launcher started stops, and it says it stopped by request (exit 0).
            var started = RecordedParts(runDir);
            Assert.Equal(new[] { "redis", "store", "api-1", "api-2", "prometheus", "monitoring" }, started.Select(p => p.Name).Where(n => n != "grafana"));
            Assert.All(started, part => Assert.True(ServerProcess.IsRunning(part.Pid), $"{part.Name} ({part.Pid}) is not running before the stop"));
            await ServerProcess.SignalAsync(launcher.Id, "TERM");
            using var wait = new CancellationTokenSource(StopTimeout);
            await launcher.WaitForExitAsync(wait.Token);
            stopped = true;
            Assert.True(launcher.ExitCode == 0, $"the launcher exited with {launcher.ExitCode}:\n{log}");
            Assert.All(started, part => Assert.False(ServerProcess.IsRunning(part.Pid), $"{part.Name} ({part.Pid}) is still running after the launcher stopped"));
        }
        finally
        {
            if (!stopped)
            {
                await StopLeftoversAsync(launcher, runDir);
            }

            launcher.Dispose();
            TryDelete(runDir);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "run-local.sh")) && File.Exists(Path.Combine(dir.FullName, "OptimizedCache.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No run-local.sh above {AppContext.BaseDirectory}.");
    }

    private static List<(string Name, int Pid)> RecordedParts(string runDir) =>
        [.. File.ReadAllLines(Path.Combine(runDir, "pids"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture)))];


    private static Task WaitForAsync(Func<bool> condition, TimeSpan timeout, Process launcher, BoundedLog log, string what) =>
        WaitForAsync(() => Task.FromResult(condition()), timeout, launcher, log, what);

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, Process launcher, BoundedLog log, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(launcher.HasExited, $"the launcher exited ({(launcher.HasExited ? launcher.ExitCode : 0)}) while waiting for {what}:\n{log}");
            Assert.True(watch.Elapsed < timeout, $"timed out after {timeout.TotalSeconds} s waiting for {what}:\n{log}");
            await Task.Delay(250);
        }
    }

    /// <summary>After a failure: stop the launcher as a person would, then make sure of every part it recorded.</summary>
    private static async Task StopLeftoversAsync(Process launcher, string runDir)
    {
        if (!launcher.HasExited)
        {
            await ServerProcess.SignalAsync(launcher.Id, "TERM");
            using var wait = new CancellationTokenSource(StopTimeout);
            try
            {
                await launcher.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                ServerProcess.Kill(launcher);
            }
        }

        if (File.Exists(Path.Combine(runDir, "pids")))
        {
            foreach (var (_, pid) in RecordedParts(runDir).Where(p => ServerProcess.IsRunning(p.Pid)))
            {
                await ServerProcess.SignalAsync(pid, "KILL");
            }
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the folder is under the temp directory.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort.
        }
    }
}
