using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// The checked-in Prometheus configuration and rules, through the real <c>promtool</c>: the config and
/// its rule files load, and the unit tests in <c>Monitoring/prometheus/tests</c> (each alert pushed
/// through its threshold both ways, recording rules on known traffic) pass.
/// </summary>
public sealed class PrometheusRulesTests
{
    [Fact]
    public async Task ConfigurationPassesPromtoolCheckConfig()
    {
        var (exitCode, output) = await RunPromtoolAsync("check", "config", "prometheus.yml");

        Assert.True(exitCode == 0, $"promtool check config failed:\n{output}");
        Assert.Contains("rules/recording.yml", output, StringComparison.Ordinal);
        Assert.Contains("rules/alerts.yml", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryRuleFilePassesPromtoolCheckRules()
    {
        var ruleFiles = Directory.GetFiles(Path.Combine(RepositoryPaths.Prometheus, "rules"), "*.yml");
        Assert.NotEmpty(ruleFiles);

        var (exitCode, output) = await RunPromtoolAsync(["check", "rules", .. ruleFiles]);

        Assert.True(exitCode == 0, $"promtool check rules failed:\n{output}");
    }

    [Fact]
    public async Task EveryAlertAndRecordingRulePassesItsPromtoolUnitTests()
    {
        var testFiles = Directory.GetFiles(Path.Combine(RepositoryPaths.Prometheus, "tests"), "*.yml");
        Assert.NotEmpty(testFiles);

        var (exitCode, output) = await RunPromtoolAsync(["test", "rules", .. testFiles]);

        Assert.True(exitCode == 0, $"promtool test rules failed:\n{output}");
    }

    [Fact]
    public async Task EveryAlertIsExercisedByAUnitTest()
    {
        var alerts = File.ReadAllLines(Path.Combine(RepositoryPaths.Prometheus, "rules", "alerts.yml"))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("- alert:", StringComparison.Ordinal))
            .Select(line => line["- alert:".Length..].Trim())
            .ToList();
        var tests = string.Concat(
            Directory.GetFiles(Path.Combine(RepositoryPaths.Prometheus, "tests"), "*.yml").Select(File.ReadAllText));

        Assert.NotEmpty(alerts);
        var untested = alerts.Where(alert => !tests.Contains($"alertname: {alert}\n", StringComparison.Ordinal)).ToList();
        Assert.True(untested.Count == 0, $"alerts without a promtool test: {string.Join(", ", untested)}");
    }

    private static async Task<(int ExitCode, string Output)> RunPromtoolAsync(params string[] arguments)
    {
        var promtool = ServerProcess.Locate("promtool", "prometheus");
        var log = new BoundedLog(capacity: 2000);
        using var process = ServerProcess.Start(promtool, arguments, log, RepositoryPaths.Prometheus);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promtool {string.Join(' ', arguments)} did not finish within 2 minutes:\n{log}");
        }

        process.WaitForExit(); // Flushes the redirected output.
        return (process.ExitCode, log.ToString());
    }
}
