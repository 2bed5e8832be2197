using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;
using OptimizedCache.Testing;

namespace OptimizedCache.ServiceDefaults.Tests;

/// <summary>A real Prometheus scrapes the service's <c>/metrics</c> on Kestrel.</summary>
public sealed class PrometheusScrapeTests : IAsyncLifetime
{
    private static readonly TimeSpan SeriesTimeout = TimeSpan.FromSeconds(30);
    private readonly string _meterName = "OptimizedCache.Tests." + Guid.NewGuid().ToString("N")[..8];
    private Meter _meter = null!;
    private TestApp _app = null!;
    private PrometheusServer _prometheus = null!;

    public async Task InitializeAsync()
    {
        _meter = new Meter(_meterName);
        _app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["ServiceDefaults:AdditionalMeters:0"] = _meterName },
            configureApp: app => app.MapGet("/items/{id:int}", (int id) => id),
            kestrel: true);
        var target = $"{_app.BaseAddress.Host}:{_app.BaseAddress.Port}";
        _prometheus = await PrometheusServer.StartAsync($"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: service
                metrics_path: /metrics
                static_configs:
                  - targets: ["{target}"]
            """);
    }

    public async Task DisposeAsync()
    {
        await _prometheus.DisposeAsync();
        await _app.DisposeAsync();
        _meter.Dispose();
    }

    [Fact]
    public async Task PrometheusScrapesCountersHistogramsAndRequestDurations()
    {
        var requests = _meter.CreateCounter<long>("scrape.requests", "{request}", "Requests.");
        requests.Add(40, new KeyValuePair<string, object?>("result", "hit"));
        requests.Add(2, new KeyValuePair<string, object?>("result", "miss"));
        var latency = _meter.CreateHistogram<double>("scrape.latency", "s", "Latency.");
        for (var i = 0; i < 100; i++)
        {
            // Half the observations at 2 ms, half at 200 ms: the median lies in the 2.5 ms bucket.
            latency.Record(i % 2 == 0 ? 0.002 : 0.2);
        }

        for (var i = 0; i < 5; i++)
        {
            (await _app.Client.GetAsync($"/items/{i}")).EnsureSuccessStatusCode();
        }

        var up = await _prometheus.WaitForSeriesAsync("up{job=\"service\"} == 1", SeriesTimeout);
        Assert.True(up.GetArrayLength() == 1, $"The target never came up.\n{_prometheus.Log}");

        var total = await WaitForValueAsync("sum(scrape_requests_total)", v => v == 42);
        Assert.Equal(42, total);
        var hits = await WaitForValueAsync("sum(scrape_requests_total{result=\"hit\"})", v => v == 40);
        Assert.Equal(40, hits);

        var median = await WaitForValueAsync("histogram_quantile(0.5, sum by (le) (scrape_latency_seconds_bucket))", v => !double.IsNaN(v));
        Assert.InRange(median, 0.001, 0.0025);
        var p90 = await WaitForValueAsync("histogram_quantile(0.9, sum by (le) (scrape_latency_seconds_bucket))", v => !double.IsNaN(v));
        Assert.InRange(p90, 0.1, 0.25);

        var served = await WaitForValueAsync(
            "sum(http_server_request_duration_seconds_count{http_route=\"/items/{id:int}\"})", v => v >= 5);
        Assert.True(served >= 5, $"http_server_request_duration_seconds_count was {served}.");
    }

    private async Task<double> WaitForValueAsync(string promql, Func<double, bool> accept)
    {
        var deadline = DateTime.UtcNow + SeriesTimeout;
        var value = double.NaN;
        while (DateTime.UtcNow < deadline)
        {
            var result = await _prometheus.QueryAsync(promql);
            if (result.GetArrayLength() == 1)
            {
                value = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                if (accept(value))
                {
                    return value;
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"'{promql}' did not reach an accepted value within {SeriesTimeout} (last {value}).\n{_prometheus.Log}");
    }
}
