using System.Text.Json;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// A real Prometheus running the checked-in <c>prometheus.yml</c> and rules (intervals cut from 5s to
/// 1s), whose <c>api</c> job discovers its target through <c>targets/api.json</c> as in production and
/// scrapes <see cref="SyntheticApiMetrics"/>. Ready once the recording rules have evaluated on data.
/// To run the same checks against the real Api, start it under traffic and write its address into
/// the target file instead.
/// </summary>
public sealed class ScrapedPrometheusFixture : IAsyncLifetime
{
    private SyntheticApiMetrics? _target;
    private PrometheusServer? _prometheus;

    /// <summary>The running Prometheus.</summary>
    public PrometheusServer Prometheus => _prometheus ?? throw new InvalidOperationException("The fixture has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _target = SyntheticApiMetrics.Start();
        var config = File.ReadAllText(Path.Combine(RepositoryPaths.Prometheus, "prometheus.yml"));
        var fastConfig = config
            .Replace("scrape_interval: 5s", "scrape_interval: 1s", StringComparison.Ordinal)
            .Replace("evaluation_interval: 5s", "evaluation_interval: 1s", StringComparison.Ordinal);
        if (fastConfig.Contains("interval: 5s", StringComparison.Ordinal) || !fastConfig.Contains("scrape_interval: 1s", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("prometheus.yml no longer sets 'scrape_interval: 5s' and 'evaluation_interval: 5s'; update this fixture.");
        }

        var files = new Dictionary<string, string>
        {
            ["rules/recording.yml"] = File.ReadAllText(Path.Combine(RepositoryPaths.Prometheus, "rules", "recording.yml")),
            ["rules/alerts.yml"] = File.ReadAllText(Path.Combine(RepositoryPaths.Prometheus, "rules", "alerts.yml")),
            ["targets/api.json"] = $$"""[{ "targets": ["{{_target.Target}}"], "labels": {} }]""",
            ["targets/monitoring.json"] = "[]",
        };
        _prometheus = await PrometheusServer.StartAsync(fastConfig, files);

        // The last recording rules of each group depend on earlier ones and on two scrapes at least; the
        // alerts read the recorded series in turn (the synthetic traffic keeps High Error Rate pending).
        string[] readiness =
        [
            "optimizedcache:hit_ratio:rate1m",
            "store:origin_call_reduction:ratio_rate1m",
            "store:error_ratio_cached_minus_bypass:rate1m",
            "optimizedcache:l1_budget_used:max_ratio",
            "ALERTS",
        ];
        foreach (var ready in readiness)
        {
            var result = await _prometheus.WaitForSeriesAsync(ready, TimeSpan.FromSeconds(30));
            if (result.GetArrayLength() == 0)
            {
                throw new InvalidOperationException(
                    $"'{ready}' never appeared (target served {_target.Scrapes} scrapes); prometheus said:\n{_prometheus.Log}");
            }
        }
    }

    /// <summary>Runs an instant query and returns its single value, failing when there is not exactly one.</summary>
    public async Task<double> ScalarAsync(string promql)
    {
        var result = await Prometheus.QueryAsync(promql);
        Assert.True(result.GetArrayLength() == 1, $"'{promql}' returned {result.GetArrayLength()} series: {result}");
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs an instant query and returns the raw result array.</summary>
    public Task<JsonElement> QueryAsync(string promql) => Prometheus.QueryAsync(promql);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_target is not null)
        {
            await _target.DisposeAsync();
        }
    }
}
