using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// The Grafana dashboards against a Prometheus that scrapes the real Api (two replicas, the shared store) under
/// traffic at phase 2, where reads take the cached path and most writes the bypass path: every panel query is
/// valid on the series the Api really exports, and the core panels (hit ratio, latency, origin calls, error rate,
/// memory) return data. <see cref="DashboardQueryTests"/> runs them against a synthetic target serving every series.
/// </summary>
[Collection(nameof(LiveSystemCollection))]
public sealed class LiveDashboardQueryTests(LiveSystemFixture system)
{
    public static TheoryData<string> Dashboards() => [.. GrafanaDashboards.Names()];

    [Theory]
    [MemberData(nameof(Dashboards))]
    public async Task EveryPanelQueryIsValidAndTheCorePanelsReturnDataForTheRealApi(string dashboard)
    {
        await system.EnsureHealthyPhaseTwoAsync();
        var queries = GrafanaDashboards.PanelQueries(dashboard)
            .Select(q => (q.Panel, PromQL: GrafanaDashboards.SubstituteVariables(q.Expr), Core: GrafanaDashboards.CorePanels.Contains(q.Panel)))
            .ToList();
        Assert.Contains(queries, q => q.Core);

        // Both paths carry traffic, as the panels comparing them need.
        await system.WaitForAsync(
            async () =>
            {
                var paths = await system.QueryAsync("store_cache_path:requests:rate1m > 0");
                var names = paths.EnumerateArray().Select(s => s.GetProperty("metric").GetProperty("cache_path").GetString()).ToHashSet();
                return names.Contains("cached") && names.Contains("bypass");
            },
            LiveSystemFixture.Patience,
            "requests on both the cached and the bypass path");

        // The recording rules behind the core panels need a few evaluations on fresh series.
        var empty = new List<string>();
        try
        {
            await system.WaitForAsync(
                async () =>
                {
                    empty.Clear();
                    foreach (var (panel, promql, _) in queries.Where(q => q.Core))
                    {
                        if ((await system.QueryAsync(promql)).GetArrayLength() == 0)
                        {
                            empty.Add($"{panel}: {promql}");
                        }
                    }

                    return empty.Count == 0;
                },
                LiveSystemFixture.Patience,
                "every core panel to have data");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; still empty:\n{string.Join('\n', empty)}\n{system.Diagnostics()}");
        }

        var failures = new List<string>();
        foreach (var (panel, promql, core) in queries)
        {
            Assert.DoesNotContain("$", promql, StringComparison.Ordinal);
            try
            {
                var result = await system.QueryAsync(promql);
                if (core && result.GetArrayLength() == 0)
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

        // The latency panel shows the two paths side by side.
        var latency = await system.QueryAsync("store_cache_path:request_duration_seconds:p95_rate5m");
        Assert.Equal(
            ["bypass", "cached"],
            latency.EnumerateArray().Select(s => s.GetProperty("metric").GetProperty("cache_path").GetString()!).Distinct().Order(StringComparer.Ordinal));
    }
}
