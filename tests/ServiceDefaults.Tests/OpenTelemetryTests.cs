using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;

namespace OptimizedCache.ServiceDefaults.Tests;

/// <summary>
/// Activity listeners are process-wide: these tests run alone so that no other test's requests reach
/// their tracer providers.
/// </summary>
[CollectionDefinition(nameof(OpenTelemetryTests), DisableParallelization = true)]
public sealed class OpenTelemetryCollection;

[Collection(nameof(OpenTelemetryTests))]
public sealed class OpenTelemetryTests
{
    private static readonly ActivitySource CacheSource = new("OptimizedCache");
    private static readonly ActivitySource ExtraSource = new("OptimizedCache.Tests.Extra");
    private static readonly ActivitySource UnlistedSource = new("OptimizedCache.Tests.Unlisted");

    [Fact]
    public async Task RequestsAreTracedWithRouteAndStatusWhileProbesAndScrapesAreNot()
    {
        var exporter = new RecordingActivityExporter();
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["ServiceDefaults:AdditionalActivitySources:0"] = ExtraSource.Name },
            configureBuilder: builder => builder.Services.ConfigureServiceDefaultsTracing(
                (_, tracing) => tracing.AddProcessor(new SimpleActivityExportProcessor(exporter))),
            configureApp: app =>
            {
                app.MapGet("/traced/{id:int}", (int id) =>
                {
                    using var activity = CacheSource.StartActivity("cache.get");
                    using var extra = ExtraSource.StartActivity("extra.work");
                    using var unlisted = UnlistedSource.StartActivity("unlisted.work");
                    return id;
                });
                app.MapGet("/boom", string () => throw new InvalidOperationException("boom"));
            });

        (await app.Client.GetAsync("/traced/7")).EnsureSuccessStatusCode();
        (await app.Client.GetAsync("/health")).Dispose();
        (await app.Client.GetAsync("/alive")).Dispose();
        (await app.Client.GetAsync("/metrics")).Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => app.Client.GetAsync("/boom"));

        // the test server hands the exception to the client while the failed request's activity is still ending
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!exporter.Exported.Any(a => a.DisplayName == "GET /boom") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await app.App.StopAsync();

        var server = exporter.Exported.Where(a => a.Source == "Microsoft.AspNetCore").ToList();
        Assert.Equal(2, server.Count);
        var traced = Assert.Single(server, a => a.DisplayName == "GET /traced/{id:int}");
        Assert.Equal("/traced/{id:int}", traced.Tags["http.route"]);
        Assert.Equal("/traced/7", traced.Tags["url.path"]);
        Assert.Equal("GET", traced.Tags["http.request.method"]);
        Assert.Equal(200, traced.Tags["http.response.status_code"]);
        Assert.Equal(ActivityStatusCode.Unset, traced.Status);
        var cache = Assert.Single(exporter.Exported, a => a.Source == "OptimizedCache");
        Assert.Equal(traced.SpanId, cache.ParentSpanId);
        Assert.Single(exporter.Exported, a => a.DisplayName == "extra.work");
        Assert.DoesNotContain(exporter.Exported, a => a.Source == UnlistedSource.Name);
        var failed = Assert.Single(server, a => a.DisplayName == "GET /boom");
        Assert.Equal(500, failed.Tags["http.response.status_code"]);
        Assert.Equal(typeof(InvalidOperationException).FullName, failed.Tags["error.type"]);
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
    }

    [Fact]
    public async Task WithoutAnywhereToSendTracesRequestsStartNoActivity()
    {
        await using var app = await TestApp.StartAsync(configureApp: app =>
            app.MapGet("/activity", (HttpContext context) => context.Features.Get<IHttpActivityFeature>()?.Activity is null ? "none" : "some"));

        var answer = await app.Client.GetStringAsync("/activity");

        Assert.Equal("none", answer);
    }

    [Fact]
    public async Task ProvidersAreFlushedAndDisposedWhenTheHostStops()
    {
        var activities = new RecordingActivityExporter();
        var metrics = new RecordingMetricExporter();
        await using var app = await TestApp.StartAsync(configureBuilder: builder =>
        {
            builder.Services.ConfigureServiceDefaultsTracing((_, tracing) => tracing.AddProcessor(new BatchActivityExportProcessor(activities, scheduledDelayMilliseconds: 3_600_000)));
            builder.Services.ConfigureServiceDefaultsMetrics((_, metering) => metering.AddReader(new PeriodicExportingMetricReader(metrics, exportIntervalMilliseconds: 3_600_000)));
        });
        (await app.Client.GetAsync("/alive")).EnsureSuccessStatusCode();
        using (CacheSource.StartActivity("cache.get"))
        {
        }

        Assert.False(activities.ShutDown);
        Assert.False(metrics.ShutDown);
        Assert.Empty(activities.Exported);

        await app.App.StopAsync();

        Assert.True(activities.ShutDown, "The tracer provider was not shut down when the host stopped.");
        Assert.True(metrics.ShutDown, "The meter provider was not shut down when the host stopped.");
        Assert.Contains(activities.Exported, a => a.DisplayName == "cache.get");
        Assert.True(metrics.Exports >= 1, "The meter provider did not export its last measurements on shutdown.");
        using var afterStop = await app.Client.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, afterStop.StatusCode);
    }

    [Fact]
    public async Task NoOtlpExporterIsRegisteredWithoutTheEndpointSetting()
    {
        await using var receiver = await OtlpReceiver.StartAsync();

        // Per-signal endpoints would steer a registered exporter to the receiver; only
        // OTEL_EXPORTER_OTLP_ENDPOINT switches export on, so nothing may arrive.
        var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = new Uri(receiver.Endpoint, "v1/metrics").ToString(),
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = new Uri(receiver.Endpoint, "v1/traces").ToString(),
            ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = new Uri(receiver.Endpoint, "v1/logs").ToString(),
        });
        try
        {
            Assert.DoesNotContain(app.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
            app.Services.GetRequiredService<ILogger<OpenTelemetryTests>>().LogWarning("otlp-log-line");
            using (CacheSource.StartActivity("otlp-span"))
            {
            }

            (await app.Client.GetAsync("/alive")).EnsureSuccessStatusCode();
            await app.App.StopAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task WithAnEndpointMetricsTracesAndLogsReachTheOtlpReceiverWithItsHeaders()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=test-key",
            ["OTEL_SERVICE_NAME"] = "otlp-test-service",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "3600000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "3600000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "3600000",
        });
        try
        {
            Assert.Contains(app.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
            app.Services.GetRequiredService<ILogger<OpenTelemetryTests>>().LogWarning("otlp-log-line");
            using (CacheSource.StartActivity("otlp-span"))
            {
            }

            Assert.DoesNotContain(receiver.Received, r => r.Path is "/v1/metrics" or "/v1/traces");

            // Nothing is due before an hour: what arrives now is the flush on shutdown.
            await app.App.StopAsync();
            Assert.True(receiver.HasReceived("/v1/metrics", "otlp-test-service"), Describe(receiver));
            Assert.True(receiver.HasReceived("/v1/traces", "otlp-span"), Describe(receiver));
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.True(receiver.HasReceived("/v1/logs", "otlp-log-line"), Describe(receiver));
        Assert.All(receiver.Received, r => Assert.Equal("test-key", r.ApiKey));
    }

    [Fact]
    public async Task APrometheusOtlpEndpointGetsTheMetricsTooCumulativeAndWithoutTheDashboardsKey()
    {
        await using var dashboard = await OtlpReceiver.StartAsync();
        await using var prometheus = await OtlpReceiver.StartAsync();
        var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = dashboard.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=dashboard-key",
            // A delta preference for the dashboard must not reach Prometheus, which takes cumulative sums only.
            ["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"] = "delta",
            ["OTEL_SERVICE_NAME"] = "prometheus-push-service",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "3600000",
            ["Telemetry:PrometheusOtlpEndpoint"] = new Uri(prometheus.Endpoint, "api/v1/otlp/v1/metrics").ToString(),
        });
        try
        {
            using var meter = new Meter("OptimizedCache");
            meter.CreateCounter<long>("cache.test.pushed", "{call}").Add(3);
            Assert.Empty(prometheus.Received);

            // Nothing is due before an hour: what arrives now is the flush on shutdown.
            await app.App.StopAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }

        var pushed = Assert.Single(prometheus.Received, r => r.Path == "/api/v1/otlp/v1/metrics");
        Assert.Equal("", pushed.ApiKey);
        Assert.Contains("prometheus-push-service", System.Text.Encoding.UTF8.GetString(pushed.Body), StringComparison.Ordinal);
        var metrics = OtlpMetricsReader.Metrics(pushed.Body);
        Assert.Contains(metrics, m => m.Name == "cache.test.pushed" && m.Temporality == OtlpMetricsReader.Cumulative);
        Assert.Contains(metrics, m => m.Name == "http.server.request.duration" || m.Name.StartsWith("dotnet.", StringComparison.Ordinal));
        Assert.All(metrics.Where(m => m.Temporality is not null), m => Assert.Equal(OtlpMetricsReader.Cumulative, m.Temporality));

        // The dashboard's exporter is unchanged: its own path, key and preference.
        var toDashboard = Assert.Single(dashboard.Received, r => r.Path == "/v1/metrics");
        Assert.Equal("dashboard-key", toDashboard.ApiKey);
        Assert.Contains(OtlpMetricsReader.Metrics(toDashboard.Body), m => m.Name == "cache.test.pushed" && m.Temporality == OtlpMetricsReader.Delta);
    }

    [Fact]
    public async Task APrometheusOtlpEndpointThatIsNotAUrlStopsTheHostNamingIt()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:PrometheusOtlpEndpoint"] = "prometheus:9090/api/v1/otlp",
        }));

        Assert.Contains("'prometheus:9090/api/v1/otlp'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptionsStopTheHostWithTheOffendingValue()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["ServiceDefaults:MetricCardinalityLimit"] = "0",
            ["ServiceDefaults:ScrapeCacheDuration"] = "-00:00:01",
        }));

        Assert.Contains("MetricCardinalityLimit is 0", failure.Message, StringComparison.Ordinal);
        Assert.Contains("ScrapeCacheDuration is -00:00:01", failure.Message, StringComparison.Ordinal);
    }

    private static string Describe(OtlpReceiver receiver) =>
        "received: " + string.Join(", ", receiver.Received.Select(r => $"{r.Path} ({r.Body.Length} bytes)"));
}
