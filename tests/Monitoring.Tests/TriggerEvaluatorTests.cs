using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The rollback triggers evaluated from what a real Prometheus scraped from synthetic Api series.</summary>
public sealed class TriggerEvaluatorTests(PrometheusFarm farm) : IClassFixture<PrometheusFarm>
{
    private static readonly GuardOptions Options = new() { Window = TimeSpan.FromSeconds(10), MinimumRequests = 200 };

    [Fact]
    public async Task HitRatioTriggerFiresAtThirtyPercentAndQuietsWhenHitsDominate()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.Lookups(l1Hits: 200, l2Hits: 100, misses: 700);
        await env.Target.WaitForScrapesAsync();

        var low = Trigger(await env.ReadAsync(), TriggerNames.HitRatio);
        Assert.Equal(TriggerState.Firing, low.State);
        Assert.InRange(low.Value!.Value, 29, 31);
        Assert.Contains(low.Evidence, f => f.Query.Contains("tier=\"l1\"", StringComparison.Ordinal));

        env.Target.Lookups(l1Hits: 8_000, l2Hits: 1_000, misses: 1_000);
        await env.Target.WaitForScrapesAsync();

        var high = Trigger(await env.ReadAsync(), TriggerNames.HitRatio);
        Assert.Equal(TriggerState.Ok, high.State);
        Assert.InRange(high.Value!.Value, 80, 90);
    }

    [Fact]
    public async Task ThreeRequestsAreInsufficientDataForEveryTrigger()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.Requests("cached", 3, 2.0, "5xx");
        env.Target.Lookups(l1Hits: 0, l2Hits: 0, misses: 3);
        env.Target.SetMemory(50_000_000, 10_000_000);
        await env.Target.WaitForScrapesAsync();

        var triggers = TriggerEvaluator.Evaluate(await env.ReadAsync(), baseline: null, Options);

        Assert.All(triggers, t => Assert.Equal(TriggerState.InsufficientData, t.State));
        Assert.All(triggers, t => Assert.False(t.MissingData));
        Assert.Contains("fewer than the 200 required", Trigger(triggers, TriggerNames.HitRatio).Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AbsentSeriesAreMissingDataNotFiring()
    {
        var port = OptimizedCache.Testing.ServerProcess.FreePort();
        var config = $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: nothing
                static_configs:
                  - targets: ['127.0.0.1:{port}']
            """;
        await using var prometheus = await OptimizedCache.Testing.PrometheusServer.StartAsync(config);
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress };

        var m = await Measurements.ReadAsync(new PrometheusClient(http), Options, Options.Window, DateTimeOffset.UtcNow, default);
        var triggers = TriggerEvaluator.Evaluate(m, null, Options);

        Assert.All(triggers, t => Assert.Equal(TriggerState.InsufficientData, t.State));
        Assert.All(triggers, t => Assert.True(t.MissingData, t.Name));
    }

    [Fact]
    public async Task MemoryTriggerFiresAboveOneHundredTwentyPercentOfTheBudget()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.SetMemory(13_000_000, 10_000_000);
        // The window average must pass 120%: let the new size fill most of the window.
        await Task.Delay(TimeSpan.FromSeconds(8));
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync();

        var over = Trigger(await env.ReadAsync(), TriggerNames.Memory);
        Assert.Equal(TriggerState.Firing, over.State);
        Assert.InRange(over.Value!.Value, 120.5, 130.1);

        var planned = env.Options(plannedMemoryBytes: 20_000_000);
        var withPlan = Trigger(TriggerEvaluator.Evaluate(await env.ReadAsync(planned), null, planned), TriggerNames.Memory);
        Assert.Equal(TriggerState.Ok, withPlan.State);
        Assert.InRange(withPlan.Value!.Value, 50, 65.1);
    }

    [Fact]
    public async Task ErrorRateTriggerComparesWithTheBaselineInPercentagePoints()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.Requests("cached", 990, 0.002);
        env.Target.Requests("cached", 10, 0.002, "5xx");
        await env.Target.WaitForScrapesAsync();
        var m = await env.ReadAsync();

        var calm = Baseline(errorRate: 0.008, latency: 0.01);
        var clean = Baseline(errorRate: 0.0, latency: 0.01);

        Assert.Equal(TriggerState.Ok, Trigger(TriggerEvaluator.Evaluate(m, calm, Options), TriggerNames.ErrorRate).State);
        var firing = Trigger(TriggerEvaluator.Evaluate(m, clean, Options), TriggerNames.ErrorRate);
        Assert.Equal(TriggerState.Firing, firing.State);
        Assert.InRange(firing.Value!.Value, 0.9, 1.1);
        Assert.Contains("vs baseline 0%", firing.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponseTimeTriggerFiresOnlyWhenTheCachedPathIsSlowerThanEveryReference()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.Requests("cached", 500, 0.2);
        env.Target.Requests("bypass", 500, 0.3);
        await env.Target.WaitForScrapesAsync();
        var m = await env.ReadAsync();
        var fastBaseline = Baseline(errorRate: 0, latency: 0.05);

        // Slower than the baseline, but not than the live bypass path: the slowdown is not the cache's.
        var shared = Trigger(TriggerEvaluator.Evaluate(m, fastBaseline, Options), TriggerNames.ResponseTime);
        Assert.Equal(TriggerState.Ok, shared.State);
        Assert.Contains("bypass path", shared.Summary, StringComparison.Ordinal);

        env.Target.Requests("cached", 5_000, 0.8);
        await env.Target.WaitForScrapesAsync();
        var worse = Trigger(TriggerEvaluator.Evaluate(await env.ReadAsync(), fastBaseline, Options), TriggerNames.ResponseTime);
        Assert.Equal(TriggerState.Firing, worse.State);
    }

    [Fact]
    public void ResponseTimeWithoutAnyReferenceIsInsufficientData()
    {
        var m = new Measurements(DateTimeOffset.UtcNow, Options.Window,
        [
            new(Measurements.Names.CachedRequests, "q", 1_000),
            new(Measurements.Names.CachedLatency, "q", 0.5),
            new(Measurements.Names.BypassRequests, "q", 10),
            new(Measurements.Names.BypassLatency, "q", 0.01),
        ]);

        var result = TriggerEvaluator.Evaluate(Complete(m), null, Options).Single(t => t.Name == TriggerNames.ResponseTime);

        Assert.Equal(TriggerState.InsufficientData, result.State);
        Assert.Contains("no reference", result.Summary, StringComparison.Ordinal);
    }

    internal static Baseline Baseline(double errorRate, double latency) =>
        new(DateTimeOffset.UtcNow, 10, 1_000, latency, 0.95, errorRate, 1.0);

    private static Measurements Complete(Measurements partial)
    {
        var names = typeof(Measurements.Names).GetFields().Select(f => (string)f.GetValue(null)!);
        return new Measurements(partial.Time, partial.Window,
            names.Select(n => partial.Figures.FirstOrDefault(f => f.Name == n) ?? new Figure(n, "q", null)));
    }

    private static TriggerResult Trigger(Measurements m, string name) => Trigger(TriggerEvaluator.Evaluate(m, null, Options), name);

    private static TriggerResult Trigger(IReadOnlyList<TriggerResult> results, string name) => results.Single(t => t.Name == name);
}
