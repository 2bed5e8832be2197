using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OptimizedCache.Monitoring.Apis;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The panel's HTTP API: status, series whitelist, and key-guarded rollout changes proxied to the Api.</summary>
public sealed class StatusApiTests(PrometheusFarm farm) : IClassFixture<PrometheusFarm>
{
    [Fact]
    public async Task StatusShowsPhaseFeaturesTargetsAndTriggers()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync();
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";
        await using var app = await MonitoringApp.StartAsync(settings);
        await app.Services.GetRequiredService<RolloutGuard>().EvaluateOnceAsync(default);

        var status = await app.Http.GetFromJsonAsync<JsonElement>("api/status");

        Assert.Equal(2, status.GetProperty("phase").GetInt32());
        Assert.Equal(100, status.GetProperty("features").GetProperty("Cache.Reads").GetDouble());
        var targets = status.GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(["hit_rate", "api_call_reduction", "response_time_improvement", "memory", "error_rate"], targets.Keys);
        Assert.All(targets.Values, t => Assert.Equal("pass", t.GetProperty("status").GetString()));
        Assert.InRange(targets["hit_rate"].GetProperty("value").GetDouble(), 85, 95);
        Assert.InRange(targets["api_call_reduction"].GetProperty("value").GetDouble(), 85, 95);
        var triggers = status.GetProperty("triggers").EnumerateArray().ToList();
        Assert.Equal(TriggerNames.All, triggers.Select(t => t.GetProperty("name").GetString()));
        Assert.All(triggers, t => Assert.Equal("Ok", t.GetProperty("state").GetString()));
        Assert.True(status.GetProperty("prometheus").GetProperty("reachable").GetBoolean());
    }

    [Fact]
    public async Task RolloutChangesNeedTheApiKey()
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var anonymous = await app.Http.PostAsJsonAsync("api/rollout/advance", new { reason = "go" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        using var wrong = await PostAsync(app, "api/rollout/advance", "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(api.Calls);
        Assert.Equal(1, api.Phase);
    }

    [Fact]
    public async Task RolloutChangesAreProxiedToTheApiWithTheConfiguredKey()
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var advance = await PostAsync(app, "api/rollout/advance", FakeAdminApi.Key, "traffic looks fine");
        Assert.Equal(HttpStatusCode.OK, advance.StatusCode);
        Assert.Equal(2, (await advance.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetInt32());

        using var complete = await PostAsync(app, "api/rollout/rollback?scope=complete", FakeAdminApi.Key);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.Equal(0, api.Phase);

        var calls = api.Calls.Where(c => c.Method == "POST").ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(("/admin/rollout/advance", "control-panel", "traffic looks fine"), (calls[0].Path, calls[0].Actor, calls[0].Reason));
        Assert.Equal(("/admin/rollout/rollback", "complete", "rollback from the control panel"), (calls[1].Path, calls[1].Scope, calls[1].Reason));
        Assert.All(calls, c => Assert.Equal(FakeAdminApi.Key, c.ApiKey));
    }

    [Theory]
    [InlineData("api/rollout/jump")]
    [InlineData("api/rollout/rollback")]
    [InlineData("api/rollout/rollback?scope=everything")]
    public async Task UnknownActionsAndScopesAreBadRequests(string path)
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var response = await PostAsync(app, path, FakeAdminApi.Key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(api.Calls, c => c.Method == "POST");
    }

    [Fact]
    public async Task ReasonsLongerThanTheApiAcceptsAreBadRequests()
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var response = await PostAsync(app, "api/rollout/advance", FakeAdminApi.Key, new string('x', 501));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("501", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api/series?metric=up&range=1h", "is not a chart")]
    [InlineData("api/series?metric=sum(rate(x[1m]))", "is not a chart")]
    [InlineData("api/series?metric=hit_ratio&range=forever", "must be a duration")]
    [InlineData("api/series?metric=hit_ratio&range=10s", "between 1m and 7d")]
    public async Task SeriesOnlyServesWhitelistedChartsOverSaneRanges(string path, string message)
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var response = await app.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeriesReadsTheChartFromPrometheus()
    {
        await using var env = await GuardEnvironment.StartAsync(farm, phase: 2);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync(3);
        env.HealthyTraffic();
        await env.Target.WaitForScrapesAsync(3);
        var settings = env.Settings();
        settings["Monitoring:Guard:Enabled"] = "false";
        await using var app = await MonitoringApp.StartAsync(settings);

        var latency = await app.Http.GetFromJsonAsync<JsonElement>("api/series?metric=latency&range=2m");
        var names = latency.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Equal(["bypass", "cached"], names);
        var hits = await app.Http.GetFromJsonAsync<JsonElement>("api/series?metric=hit_ratio&range=2m");
        var points = hits.GetProperty("series")[0].GetProperty("points").EnumerateArray().ToList();
        Assert.NotEmpty(points);
        Assert.Contains(points, p => p[1].GetDouble() is > 85 and < 95);
    }

    [Fact]
    public async Task SeriesSaysWhenPrometheusIsUnreachable()
    {
        await using var api = await FakeAdminApi.StartAsync(phase: 1);
        await using var app = await StartWithoutPrometheusAsync(api);

        using var response = await app.Http.GetAsync("api/series?metric=hit_ratio&range=1h");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Theory]
    [InlineData("Monitoring:Guard:Window", "00:00:00.500", "Monitoring:Guard:Window")]
    [InlineData("Monitoring:Guard:MinimumRequests", "0", "MinimumRequests must be at least 1; got 0")]
    [InlineData("Monitoring:Guard:Selector", "job=api", "Selector must be PromQL label matchers")]
    [InlineData("Monitoring:ApiKey", "", "Monitoring:ApiKey is required")]
    [InlineData("Monitoring:Guard:Triggers:HitRatioMinimumPercent", "140", "got 140")]
    public async Task StartRejectsBadOptionsNamingTheValue(string key, string value, string message)
    {
        var settings = MonitoringApp.Settings(new Uri("http://127.0.0.1:9/"), new Uri("http://127.0.0.1:9/"), "b.json");
        settings[key] = value;

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => MonitoringApp.StartAsync(settings));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyComparisonAcceptsOnlyTheExactKey()
    {
        Assert.True(ApiKeyFilter.Matches("secret-key", "secret-key"));
        Assert.False(ApiKeyFilter.Matches("secret-kez", "secret-key"));
        Assert.False(ApiKeyFilter.Matches("secret-key-and-more", "secret-key"));
        Assert.False(ApiKeyFilter.Matches("", "secret-key"));
        Assert.False(ApiKeyFilter.Matches("anything", ""));
    }

    private static Task<MonitoringApp> StartWithoutPrometheusAsync(FakeAdminApi api)
    {
        var settings = MonitoringApp.Settings(new Uri($"http://127.0.0.1:{OptimizedCache.Testing.ServerProcess.FreePort()}/"), api.BaseAddress,
            Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "b.json"));
        settings["Monitoring:Guard:Enabled"] = "false";
        return MonitoringApp.StartAsync(settings);
    }

    private static async Task<HttpResponseMessage> PostAsync(MonitoringApp app, string path, string key, string? reason = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { reason }) };
        request.Headers.Add("X-Api-Key", key);
        return await app.Http.SendAsync(request);
    }
}
