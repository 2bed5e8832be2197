using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;
using OptimizedCache.Testing;
using static OptimizedCache.ServiceDefaults.Tests.Infrastructure.Exposition;

namespace OptimizedCache.ServiceDefaults.Tests;

public sealed class MetricsEndpointTests : IAsyncLifetime
{
    // Each test class has its own meter, so parallel test classes never see each other's instruments.
    private readonly string _meterName = "OptimizedCache.Tests." + Guid.NewGuid().ToString("N")[..8];
    private Meter _meter = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _meter = new Meter(_meterName, "1.2.3");
        _app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["ServiceDefaults:AdditionalMeters:0"] = _meterName },
            configureApp: app => app.MapGet("/items/{id:int}", (int id) => id));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _meter.Dispose();
    }

    [Fact]
    public async Task CountersEndInTotalWithEscapedLabelsAndTheMeterAsScope()
    {
        var counter = _meter.CreateCounter<long>("test.requests", "{request}", "Requests served.");
        counter.Add(3, new("result", "hit"), new("data.type", "product"));
        counter.Add(2, new("result", "miss"), new("data.type", "quote\"back\\slash\nnewline"));

        var text = await _app.GetMetricsAsync();

        var lines = Lines(text);
        Assert.Contains("# HELP test_requests_total Requests served.", lines);
        Assert.Contains("# TYPE test_requests_total counter", lines);
        Assert.Contains($"test_requests_total{{data_type=\"product\",result=\"hit\",otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 3", lines);
        Assert.Contains($"test_requests_total{{data_type=\"quote\\\"back\\\\slash\\nnewline\",result=\"miss\",otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 2", lines);
    }

    [Fact]
    public async Task GaugesAndUpDownCountersAreGaugesWithUnitSuffixes()
    {
        _meter.CreateObservableGauge("test.memory.size", () => 4096L, "By", "Memory held.");
        _meter.CreateObservableGauge("test.hit.ratio", () => 0.75, "1", "Share of hits.");
        var entries = _meter.CreateUpDownCounter<int>("test.entries", "{entry}", "Entries held.");
        entries.Add(5);
        entries.Add(-2);
        _meter.CreateCounter<double>("test.transferred", "By", "Bytes moved.").Add(1.5);

        var lines = Lines(await _app.GetMetricsAsync());

        Assert.Contains("# TYPE test_memory_size_bytes gauge", lines);
        Assert.Contains($"test_memory_size_bytes{{otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 4096", lines);
        Assert.Contains("# TYPE test_hit_ratio gauge", lines);
        Assert.Contains($"test_hit_ratio{{otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 0.75", lines);
        Assert.Contains("# TYPE test_entries gauge", lines);
        Assert.Contains($"test_entries{{otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 3", lines);
        Assert.Contains("# TYPE test_transferred_bytes_total counter", lines);
        Assert.Contains($"test_transferred_bytes_total{{otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 1.5", lines);
    }

    [Fact]
    public async Task HistogramsInSecondsHaveTheContractBucketsCumulativeUpToCount()
    {
        var latency = _meter.CreateHistogram<double>("test.latency", "s", "Time taken.");
        double[] observations = [0.00003, 0.0002, 0.0002, 0.004, 0.07, 0.07, 0.3, 3, 42];
        foreach (var seconds in observations)
        {
            latency.Record(seconds, new KeyValuePair<string, object?>("group", "reads"));
        }

        var text = await _app.GetMetricsAsync();

        Assert.Contains("# TYPE test_latency_seconds histogram", Lines(text));
        var buckets = Samples(text, "test_latency_seconds_bucket");
        string[] expectedBounds = [.. ServiceDefaultsOptions.LatencyBucketBoundaries.Select(OptimizedCache.ServiceDefaults.Internal.PrometheusTextSerializer.FormatDouble), "+Inf"];
        Assert.Equal(expectedBounds, buckets.Select(b => Label(b, "le")));
        Assert.Equal("0.00005", Label(buckets[0], "le"));
        Assert.Equal("10", Label(buckets[^2], "le"));
        Assert.All(buckets, b => Assert.Equal("reads", Label(b, "group")));

        var cumulative = buckets.Select(Value).ToArray();
        for (var i = 0; i < expectedBounds.Length; i++)
        {
            var bound = i < expectedBounds.Length - 1 ? ServiceDefaultsOptions.LatencyBucketBoundaries[i] : double.PositiveInfinity;
            Assert.Equal(observations.Count(o => o <= bound), cumulative[i]);
        }

        var count = Value(Assert.Single(Samples(text, "test_latency_seconds_count")));
        var sum = Value(Assert.Single(Samples(text, "test_latency_seconds_sum")));
        Assert.Equal(observations.Length, count);
        Assert.Equal(cumulative[^1], count);
        Assert.Equal(observations.Sum(), sum, 9);
    }

    [Fact]
    public async Task AspNetCoreRequestDurationAppearsWithTheLatencyBucketsAfterRequests()
    {
        for (var i = 0; i < 3; i++)
        {
            (await _app.Client.GetAsync($"/items/{i}")).EnsureSuccessStatusCode();
        }

        var text = await _app.GetMetricsAsync();

        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", Lines(text));
        var routeSeries = Samples(text, "http_server_request_duration_seconds_count")
            .Where(l => Label(l, "http_route") == "/items/{id:int}" && Label(l, "http_response_status_code") == "200")
            .ToArray();
        Assert.True(Value(Assert.Single(routeSeries)) >= 3, string.Join('\n', routeSeries));
        Assert.Contains(Samples(text, "http_server_request_duration_seconds_bucket"), l => Label(l, "le") == "0.00005");
        Assert.Contains(Samples(text, "http_server_request_duration_seconds_bucket"), l => Label(l, "le") == "0.0025");
    }

    [Fact]
    public async Task TheWholeExpositionPassesPromtoolCheckMetrics()
    {
        var counter = _meter.CreateCounter<long>("test.checked", "{request}");
        counter.Add(1, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"));
        _meter.CreateHistogram<double>("test.check.latency", "s").Record(0.01);
        _meter.CreateObservableUpDownCounter("test.check.count", () => 7, "{item}", "A gauge with a reserved suffix.");
        _meter.CreateObservableGauge("test.check.size", () => 12.5, "By");
        (await _app.Client.GetAsync("/items/1")).EnsureSuccessStatusCode();
        (await _app.Client.GetAsync("/missing")).Dispose();

        var text = await _app.GetMetricsAsync();
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);

        Assert.True(exitCode == 0, $"promtool check metrics exited {exitCode}:\n{output}\n---\n{text}");
        Assert.Contains("# TYPE test_check_count untyped", Lines(text));
        Assert.Contains("# HELP test_checked_total test.checked", Lines(text));
        Assert.Contains(Lines(text), l => l.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal)
            || l.StartsWith("dotnet_process_cpu_time_seconds_total{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TargetInfoCarriesTheServiceName()
    {
        var text = await _app.GetMetricsAsync();

        var targetInfo = Assert.Single(Samples(text, "target_info"));
        Assert.Equal(typeof(TestApp).Assembly.GetName().Name, Label(targetInfo, "service_name"));
        Assert.Equal(1, Value(targetInfo));
        Assert.Contains("# TYPE target_info gauge", Lines(text));
    }

    [Fact]
    public async Task ServesTheVersionedTextContentType()
    {
        using var response = await _app.Client.GetAsync("/metrics");

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task OneInstrumentNameInTwoMetersSharesOneFamily()
    {
        using var other = new Meter(_meterName + ".Other");
        _meter.CreateCounter<long>("test.shared", "{call}", "Calls.").Add(1);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["ServiceDefaults:AdditionalMeters:0"] = _meterName,
            ["ServiceDefaults:AdditionalMeters:1"] = other.Name,
        });
        _meter.CreateCounter<long>("test.shared", "{call}", "Calls.").Add(1);
        other.CreateCounter<long>("test.shared", "{call}", "Calls.").Add(2);

        // A gauge that maps to the counter's name cannot join its family; it is left out.
        other.CreateObservableGauge("test.shared.total", () => 9, "{call}");

        var text = await app.GetMetricsAsync();

        Assert.Single(Lines(text), l => l == "# TYPE test_shared_total counter");
        var samples = Samples(text, "test_shared_total");
        Assert.Equal(2, samples.Length);
        Assert.Equal(2, Value(Assert.Single(samples, s => Label(s, "otel_scope_name") == other.Name)));
        Assert.DoesNotContain(samples, s => Value(s) == 9);
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task TheCardinalityLimitBoundsTheSeriesOfOneMetric()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["ServiceDefaults:AdditionalMeters:0"] = _meterName,
            ["ServiceDefaults:MetricCardinalityLimit"] = "10",
        });
        var counter = _meter.CreateCounter<long>("test.unbounded", "{call}");
        for (var i = 0; i < 100; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("customer", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var samples = Samples(await app.GetMetricsAsync(), "test_unbounded_total");

        // Ten tag combinations, then one series that takes every measurement past the limit.
        Assert.Equal(11, samples.Length);
        Assert.Equal(10, samples.Count(s => Label(s, "customer") is not null));
        Assert.Contains(samples, s => Label(s, "otel_metric_overflow") == "true");
        Assert.Equal(100, samples.Sum(Value));
    }

    [Fact]
    public async Task ConcurrentScrapesAllSucceedWithTheWholeExposition()
    {
        _meter.CreateCounter<long>("test.concurrent", "{call}").Add(5);

        var bodies = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _app.GetMetricsAsync()));

        Assert.All(bodies, body =>
        {
            Assert.Contains($"test_concurrent_total{{otel_scope_name=\"{_meterName}\",otel_scope_version=\"1.2.3\"}} 5", Lines(body));
            Assert.EndsWith("\n", body, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ScrapesWithinTheCacheWindowShareOneCollection()
    {
        var clock = new FakeTimeProvider();
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["ServiceDefaults:AdditionalMeters:0"] = _meterName,
                ["ServiceDefaults:ScrapeCacheDuration"] = "00:00:05",
            },
            configureBuilder: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var counter = _meter.CreateCounter<long>("test.cached", "{call}");
        counter.Add(1);
        var first = await app.GetMetricsAsync();
        counter.Add(1);
        clock.Advance(TimeSpan.FromSeconds(4));

        var withinWindow = await app.GetMetricsAsync();
        clock.Advance(TimeSpan.FromSeconds(2));
        var afterWindow = await app.GetMetricsAsync();

        Assert.Equal(1, Value(Assert.Single(Samples(first, "test_cached_total"))));
        Assert.Equal(first, withinWindow);
        Assert.Equal(2, Value(Assert.Single(Samples(afterWindow, "test_cached_total"))));
    }
}
