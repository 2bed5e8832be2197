using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Tests.Support;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The guard as it runs in Monitoring: real Prometheus, the Api's admin contract served by a fake.</summary>
public sealed class RolloutGuardTests(PrometheusFarm farm) : IClassFixture<PrometheusFarm>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RollsBackExactlyOnceWithAReasonNamingTheTrigger()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        env.Target.Lookups(l1Hits: 0, l2Hits: 100, misses: 5_000);
        await env.Target.WaitForScrapesAsync();

        await using var app = await MonitoringApp.StartAsync(env.Settings());
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(env.Api.Rollbacks.Count > 0), Patience), "no rollback");
        // Several more evaluations see the same evidence; the cooldown keeps them from rolling back again.
        var state = app.Services.GetRequiredService<GuardState>();
        var seen = state.Latest!.Sequence;
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest!.Sequence >= seen + 3), Patience));

        var rollback = Assert.Single(env.Api.Rollbacks);
        Assert.Equal("POST", rollback.Method);
        Assert.Equal("current", rollback.Scope);
        Assert.Equal(FakeAdminApi.Key, rollback.ApiKey);
        Assert.Equal("rollout-guard", rollback.Actor);
        Assert.Equal(2, rollback.From); // the phase it judged: a later phase is never rolled back on this evidence
        Assert.StartsWith("rollout-guard: hit_ratio:", rollback.Reason, StringComparison.Ordinal);
        Assert.Contains("fires below 40%", rollback.Reason, StringComparison.Ordinal);
        Assert.InRange(rollback.Reason!.Length, 1, 500);
        Assert.Equal(1, env.Api.Phase);

        var history = state.History(500);
        var rolledBack = Assert.Single(history, e => e.Decision == GuardDecisions.RolledBack);
        Assert.Equal(TriggerNames.HitRatio, rolledBack.Trigger);
        Assert.Equal(2, rolledBack.Phase);
        // phase 1 is judged on its own traffic, not on the evidence that condemned phase 2
        Assert.Contains(history, e => e.Phase == 1 && e.Decision == GuardDecisions.Collecting);
        var evidence = rolledBack.Triggers.Single(t => t.Name == TriggerNames.HitRatio);
        Assert.Equal(TriggerState.Firing, evidence.State);
        Assert.NotEmpty(evidence.Evidence);
    }

    [Fact]
    public async Task ANewPhaseIsJudgedOnItsOwnTrafficOnlyAndCollectsUntilItHasSome()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 1);
        env.HealthyTraffic();
        env.Target.Lookups(l1Hits: 0, l2Hits: 100, misses: 5_000); // phase 1's traffic: the hit-ratio trigger would fire on it
        await env.Target.WaitForScrapesAsync();
        env.Api.ChangePhase(2);

        await using var app = await MonitoringApp.StartAsync(env.Settings());
        var state = app.Services.GetRequiredService<GuardState>();
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest is { Phase: 2 }), Patience), "no evaluation of phase 2");

        var first = state.History(500).Where(e => e.Phase == 2).MinBy(e => e.Sequence)!;
        Assert.Equal(GuardDecisions.Collecting, first.Decision);
        Assert.True(first.WindowSeconds < GuardEnvironment.WindowSeconds, $"the window reached back before the phase: {first.WindowSeconds} s");
        Assert.Empty(env.Api.Rollbacks);
    }

    [Fact]
    public async Task HealthyTrafficCausesNoRollback()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync();

        await using var app = await MonitoringApp.StartAsync(env.Settings());
        var state = app.Services.GetRequiredService<GuardState>();
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest?.Sequence >= 3), Patience));

        Assert.Empty(env.Api.Rollbacks);
        var history = state.History(10);
        // Once the traffic ages out of the short window the triggers report insufficient data; never a firing one.
        Assert.All(history, e => Assert.Contains(e.Decision, new[] { GuardDecisions.Ok, GuardDecisions.InsufficientData }));
        var ok = history.Last(e => e.Decision == GuardDecisions.Ok);
        Assert.All(ok.Triggers, t => Assert.Equal(TriggerState.Ok, t.State));
    }

    [Fact]
    public async Task DryRunRecordsTheDecisionButNeverCallsTheApi()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        env.Target.Lookups(l1Hits: 0, l2Hits: 100, misses: 5_000);
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:DryRun"] = "true";

        await using var app = await MonitoringApp.StartAsync(settings);
        var state = app.Services.GetRequiredService<GuardState>();
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest?.Sequence >= 3), Patience));

        Assert.Empty(env.Api.Rollbacks);
        Assert.Equal(2, env.Api.Phase);
        var dryRun = Assert.Single(state.History(100), e => e.Decision == GuardDecisions.DryRun);
        Assert.Contains("would roll back", dryRun.Summary, StringComparison.Ordinal);
        Assert.Equal(TriggerNames.HitRatio, dryRun.Trigger);

        // the trigger fires and nothing acts on it: the panel's badge says FIRING rather than "healthy"
        var status = await app.Http.GetFromJsonAsync<JsonElement>("/api/status");
        Assert.Equal("firing", status.GetProperty("guard").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ThreeRequestsNeverRollBack()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.Target.Requests("cached", 3, 3.0, "5xx");
        env.Target.Lookups(l1Hits: 0, l2Hits: 0, misses: 3);
        await env.Target.WaitForScrapesAsync();

        await using var app = await MonitoringApp.StartAsync(env.Settings());
        var state = app.Services.GetRequiredService<GuardState>();
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest?.Sequence >= 3), Patience));

        Assert.Empty(env.Api.Rollbacks);
        Assert.Equal(GuardDecisions.InsufficientData, state.Latest!.Decision);
    }

    [Fact]
    public async Task PrometheusDownMeansNoActionAndALoudStatus()
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 2);
        using var refusing = ServerProcess.ReserveRefusingPort(out var deadPort);
        var dead = new Uri($"http://127.0.0.1:{deadPort}/");
        var settings = MonitoringApp.Settings(dead, api.BaseAddress, Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "b.json"));
        settings["Monitoring:Guard:RollbackOnMissingData"] = "true";

        await using var app = await MonitoringApp.StartAsync(settings);
        var state = app.Services.GetRequiredService<GuardState>();
        Assert.True(await GuardEnvironment.EventuallyAsync(() => Task.FromResult(state.Latest?.Sequence >= 2), Patience));

        Assert.Empty(api.Rollbacks);
        var status = await app.Http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.False(status.GetProperty("prometheus").GetProperty("reachable").GetBoolean());
        Assert.Equal("degraded", status.GetProperty("guard").GetProperty("status").GetString());
        Assert.Equal(GuardDecisions.PrometheusUnreachable, status.GetProperty("guard").GetProperty("lastDecision").GetString());
        Assert.Contains("Prometheus unreachable", status.GetProperty("guard").GetProperty("problems")[0].GetString(), StringComparison.Ordinal);

        var health = await app.Http.GetFromJsonAsync<JsonElement>("health");
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        var check = health.GetProperty("checks").GetProperty("rollout-guard");
        Assert.Equal("Degraded", check.GetProperty("status").GetString());
        Assert.Contains("Prometheus unreachable", check.GetProperty("description").GetString(), StringComparison.Ordinal);

        var metrics = await app.Http.GetStringAsync("metrics");
        Assert.Contains("rollout_guard_prometheus_up{", metrics, StringComparison.Ordinal);
        Assert.Matches(@"rollout_guard_prometheus_up\{[^}]*\} 0", metrics);
    }

    [Fact]
    public async Task MissingSeriesRollBackOnlyWhenConfigured()
    {
        // A target whose job has no traffic series at all: Prometheus answers, the figures are absent.
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        var settings = env.Settings();
        settings["Monitoring:Guard:Selector"] = "job=\"no-such-job\"";
        settings["Monitoring:Guard:Enabled"] = "false";
        await using (var quiet = await MonitoringApp.StartAsync(settings))
        {
            var e = await quiet.Services.GetRequiredService<RolloutGuard>().EvaluateOnceAsync(default);
            Assert.Equal(GuardDecisions.InsufficientData, e.Decision);
        }

        settings["Monitoring:Guard:RollbackOnMissingData"] = "true";
        await using var eager = await MonitoringApp.StartAsync(settings);
        var evaluation = await eager.Services.GetRequiredService<RolloutGuard>().EvaluateOnceAsync(default);

        Assert.Equal(GuardDecisions.RolledBack, evaluation.Decision);
        var rollback = Assert.Single(env.Api.Rollbacks);
        Assert.Contains("no data", rollback.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordsTheBaselineAtPhaseZeroAndReloadsItAfterARestart()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 0);
        env.Target.Requests("bypass", 990, 0.02);
        env.Target.Requests("bypass", 10, 0.02, "5xx");
        env.Target.OriginCalls("bypass", 1_000);
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";

        Baseline taken;
        await using (var first = await MonitoringApp.StartAsync(settings))
        {
            var evaluation = await first.Services.GetRequiredService<RolloutGuard>().EvaluateOnceAsync(default);
            Assert.Equal(GuardDecisions.PhaseZero, evaluation.Decision);
            taken = first.Services.GetRequiredService<BaselineStore>().Current!;
        }

        Assert.NotNull(taken);
        Assert.True(File.Exists(env.BaselinePath));
        Assert.InRange(taken.ErrorRate, 0.009, 0.011);
        Assert.InRange(taken.OriginCallsPerRequest!.Value, 0.99, 1.01);
        Assert.InRange(taken.LatencySeconds!.Value, 0.01, 0.025);

        await using var second = await MonitoringApp.StartAsync(settings);
        Assert.Equal(taken, second.Services.GetRequiredService<BaselineStore>().Current);
        var status = await second.Http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(taken.Requests, status.GetProperty("baseline").GetProperty("requests").GetDouble());
    }

    [Fact]
    public async Task RetakingTheBaselineNeedsAWindowOfPhaseZeroAndTheKey()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 1);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";
        await using var app = await MonitoringApp.StartAsync(settings);

        using var anonymous = await app.Http.PostAsync("api/baseline", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/baseline");
        request.Headers.Add("X-Api-Key", FakeAdminApi.Key);
        using var response = await app.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("phase-0 traffic", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(env.BaselinePath));
    }

    [Fact]
    public async Task ExportsTriggerStatesDecisionsAndRollbacksAsMetrics()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        env.Target.Lookups(l1Hits: 0, l2Hits: 100, misses: 5_000);
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";
        await using var app = await MonitoringApp.StartAsync(settings);
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var guard = app.Services.GetRequiredService<RolloutGuard>();

        var values = new List<(string Instrument, double Value, Dictionary<string, string?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GuardMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            values.Add((i.Name, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString())));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        await guard.EvaluateOnceAsync(default);
        listener.RecordObservableInstruments();
        Assert.Contains(values, v => v.Instrument == GuardMetrics.TriggerStateName && v.Tags["trigger"] == "hit_ratio" && v.Value == 1);
        Assert.Contains(values, v => v.Instrument == GuardMetrics.TriggerStateName && v.Tags["trigger"] == "memory" && v.Value == 0);
        Assert.Contains(values, v => v.Instrument == GuardMetrics.PrometheusUpName && v.Value == 1);
        Assert.Contains(values, v => v.Instrument == GuardMetrics.EvaluationsName && v.Tags["decision"] == GuardDecisions.RolledBack);

        // the next evaluation judges phase 1, which has served nothing yet: collecting
        values.Clear();
        await guard.EvaluateOnceAsync(default);
        listener.RecordObservableInstruments();
        Assert.Contains(values, v => v.Instrument == GuardMetrics.EvaluationsName && v.Tags["decision"] == GuardDecisions.Collecting);
        Assert.Contains(values, v => v.Instrument == GuardMetrics.LastDecisionName && v.Tags["decision"] == GuardDecisions.Collecting);
        Assert.Single(env.Api.Rollbacks);
    }

    [Fact]
    public async Task MetricsEndpointCarriesTheRolloutGuardSeries()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        env.Target.Lookups(l1Hits: 0, l2Hits: 100, misses: 5_000);
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";
        await using var app = await MonitoringApp.StartAsync(settings);
        await app.Services.GetRequiredService<RolloutGuard>().EvaluateOnceAsync(default);

        var metrics = await app.Http.GetStringAsync("metrics");

        // The names Monitoring/README.md lists.
        Assert.Matches(@"(?m)^rollout_guard_trigger_state\{[^}]*trigger=""hit_ratio""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_trigger_state\{[^}]*trigger=""memory""[^}]*\} 0$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_trigger_value\{[^}]*trigger=""hit_ratio""", metrics);
        Assert.Matches(@"(?m)^rollout_guard_evaluations_total\{[^}]*decision=""rolled_back""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_rollbacks_total\{[^}]*outcome=""executed""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_rollbacks_total\{[^}]*trigger=""hit_ratio""", metrics);
        Assert.Matches(@"(?m)^rollout_guard_prometheus_up\{[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_last_decision\{[^}]*decision=""rolled_back""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^rollout_guard_last_evaluation_time_seconds\{[^}]*\} \d", metrics);
        Assert.Matches(@"(?m)^rollout_guard_baseline_present\{[^}]*\} 0$", metrics);
    }
}
