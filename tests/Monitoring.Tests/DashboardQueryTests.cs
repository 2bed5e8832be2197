using System.Net.Http.Json;
using System.Text.Json;
using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// The Grafana dashboards against a real Prometheus that has scraped an Api-shaped target under traffic:
/// every panel query is valid PromQL on the real series, the core panels have data, the rules that the
/// panels read compute the traffic's known ratios, and every panel uses the provisioned datasource.
/// <see cref="LiveDashboardQueryTests"/> runs the same queries against the real Api.
/// </summary>
public sealed class DashboardQueryTests(ScrapedPrometheusFixture fixture) : IClassFixture<ScrapedPrometheusFixture>
{
    public static TheoryData<string> Dashboards() => [.. GrafanaDashboards.Names()];

    [Theory]
    [MemberData(nameof(Dashboards))]
    public async Task EveryPanelQueryIsValidAndTheCorePanelsReturnData(string dashboard)
    {
        var queries = GrafanaDashboards.PanelQueries(dashboard);
        Assert.NotEmpty(queries);

        var failures = new List<string>();
        foreach (var (panel, expr) in queries)
        {
            var promql = GrafanaDashboards.SubstituteVariables(expr);
            Assert.DoesNotContain("$", promql, StringComparison.Ordinal);
            try
            {
                var result = await fixture.QueryAsync(promql);
                // The synthetic target serves every series of docs/metrics.md, so every panel has data here;
                // against a real Api only the core panels are sure to.
                if (result.GetArrayLength() == 0)
                {
                    failures.Add($"{panel}: no data for {promql}");
                }
            }
            catch (InvalidOperationException e)
            {
                failures.Add($"{panel}: {e.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var titles = queries.Select(q => q.Panel).ToHashSet();
        var missingCore = GrafanaDashboards.CorePanels.Where(p => p.StartsWith(dashboard + "/", StringComparison.Ordinal) && !titles.Contains(p)).ToList();
        Assert.True(missingCore.Count == 0, $"core panels missing from {dashboard}: {string.Join(", ", missingCore)}");
    }

    [Fact]
    public void CorePanelsExistInTheDashboards()
    {
        var titles = GrafanaDashboards.Names().SelectMany(d => GrafanaDashboards.PanelQueries(d).Select(q => q.Panel)).ToHashSet();

        var missing = GrafanaDashboards.CorePanels.Where(p => !titles.Contains(p)).ToList();
        Assert.True(missing.Count == 0, $"core panels missing: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task RecordingRulesComputeTheRatiosOfTheScrapedTraffic()
    {
        Assert.Equal(SyntheticApiMetrics.HitRatio, await fixture.ScalarAsync("optimizedcache:hit_ratio:rate5m"), 9);
        Assert.Equal(SyntheticApiMetrics.HitRatio, await fixture.ScalarAsync("optimizedcache:hit_ratio:rate1m"), 9);
        Assert.Equal(SyntheticApiMetrics.HitRatio, await fixture.ScalarAsync("optimizedcache_data_type:hit_ratio:rate5m{data_type=\"product\"}"), 9);
        Assert.Equal(SyntheticApiMetrics.OriginCallReduction, await fixture.ScalarAsync("store:origin_call_reduction:ratio_rate5m"), 9);
        Assert.Equal(SyntheticApiMetrics.OriginCallReduction, await fixture.ScalarAsync("store:origin_call_reduction:ratio_rate1m"), 9);
        Assert.Equal(1.0 / 8, await fixture.ScalarAsync("store_cache_path:origin_calls_per_request:ratio_rate5m{cache_path=\"cached\"}"), 9);
        Assert.Equal(SyntheticApiMetrics.ErrorRatio, await fixture.ScalarAsync("store:error_ratio:rate5m"), 9);
        Assert.Equal(0, await fixture.ScalarAsync("store_cache_path:error_ratio:rate1m{cache_path=\"cached\"}"), 9);
        Assert.Equal(-0.5, await fixture.ScalarAsync("store:error_ratio_cached_minus_bypass:rate5m"), 9);
        Assert.Equal(SyntheticApiMetrics.CachedP95Seconds, await fixture.ScalarAsync("store_cache_path:request_duration_seconds:p95_rate5m{cache_path=\"cached\"}"), 9);
        Assert.Equal(SyntheticApiMetrics.L1BudgetUsed, await fixture.ScalarAsync("optimizedcache:l1_budget_used:max_ratio"), 9);
        Assert.Equal(SyntheticApiMetrics.CompressionRatio, await fixture.ScalarAsync("optimizedcache:compression_ratio:rate5m"), 9);
        Assert.Equal(SyntheticApiMetrics.Phase, await fixture.ScalarAsync("store:rollout_phase:max"));
    }

    [Fact]
    public async Task AlertRulesEvaluateOnTheScrapedSeries()
    {
        // 10% errors at 1000 requests a second: High Error Rate holds and waits out its 5 minutes; the
        // cached path is healthy, so no rollback trigger is pending.
        var highErrorRate = await fixture.Prometheus.WaitForSeriesAsync(
            "ALERTS{alertname=\"HighErrorRate\",alertstate=\"pending\",job=\"api\"}", TimeSpan.FromSeconds(15));
        Assert.Equal(1, highErrorRate.GetArrayLength());
        Assert.Equal(0, (await fixture.QueryAsync("ALERTS{rollback_trigger!=\"\"}")).GetArrayLength());

        using var response = await fixture.Prometheus.Http.GetAsync("api/v1/rules?type=alert");
        var rules = await response.Content.ReadFromJsonAsync<JsonElement>();
        var unhealthy = rules.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Where(r => r.GetProperty("health").GetString() == "err")
            .Select(r => $"{r.GetProperty("name").GetString()}: {r.GetProperty("lastError").GetString()}")
            .ToList();
        Assert.Empty(unhealthy);
    }

    [Fact]
    public void EveryPanelAndTargetUsesTheProvisionedDatasourceUid()
    {
        var provisioning = File.ReadAllText(Path.Combine(RepositoryPaths.Grafana, "provisioning", "datasources", "prometheus.yml"));
        Assert.Contains($"uid: {GrafanaDashboards.DatasourceUid}", provisioning, StringComparison.Ordinal);

        var wrong = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Grafana, "dashboards"), "*.json"))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in GrafanaDashboards.Panels(document.RootElement))
            {
                if (panel.GetProperty("type").GetString() == "row")
                {
                    continue;
                }

                var title = panel.GetProperty("title").GetString();
                if (DatasourceUidOf(panel) != GrafanaDashboards.DatasourceUid)
                {
                    wrong.Add($"{Path.GetFileName(file)}/{title}");
                }

                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    if (DatasourceUidOf(target) != GrafanaDashboards.DatasourceUid)
                    {
                        wrong.Add($"{Path.GetFileName(file)}/{title}/{target.GetProperty("refId").GetString()}");
                    }
                }
            }
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("rate(x[$__rate_interval])", "rate(x[1m])")]
    [InlineData("rate(x[${__rate_interval}])", "rate(x[1m])")]
    [InlineData("increase(x[$__range]) / $__interval_ms", "increase(x[1h]) / 15000")]
    [InlineData("avg_over_time(x[$__interval])", "avg_over_time(x[15s])")]
    public void GrafanaVariablesBecomeConcreteDurations(string expr, string expected)
    {
        Assert.Equal(expected, GrafanaDashboards.SubstituteVariables(expr));
    }

    private static string? DatasourceUidOf(JsonElement element) =>
        element.TryGetProperty("datasource", out var datasource) && datasource.ValueKind == JsonValueKind.Object
        && datasource.TryGetProperty("uid", out var uid)
            ? uid.GetString()
            : null;
}
