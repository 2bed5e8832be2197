using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// Builds the meter and tracer providers from the SDK's own builders (the hosting integration package
/// is not used), with the application's configuration in place of the SDK's environment-only default,
/// so that <c>OTEL_*</c> settings work from appsettings as well as from the environment. Changes other
/// code registers with <c>ConfigureServiceDefaultsMetrics</c> / <c>ConfigureServiceDefaultsTracing</c>
/// are applied before the OTLP exporter is added.
/// </summary>
internal static class TelemetryProviders
{
    /// <summary>The endpoint setting that switches OTLP export on (as Aspire sets it).</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The protocol setting (<c>grpc</c> or <c>http/protobuf</c>).</summary>
    public const string OtlpProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>The service name setting; the application name is used without it.</summary>
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";

    /// <summary>
    /// The full URL of a Prometheus OTLP receiver (<c>http://host:9090/api/v1/otlp/v1/metrics</c>) that gets
    /// the metrics as well, besides the <see cref="OtlpEndpointKey"/> target (the AppHost sets it).
    /// </summary>
    public const string PrometheusOtlpEndpointKey = "Telemetry:PrometheusOtlpEndpoint";

    /// <summary>The name of the second OTLP exporter's options, apart from the default exporter's.</summary>
    public const string PrometheusExporterName = "prometheus";

    private const int ShutdownTimeoutMilliseconds = 5_000;

    public static bool IsOtlpEnabled(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    /// <summary>
    /// The Prometheus OTLP receiver from <see cref="PrometheusOtlpEndpointKey"/>, or null when not set;
    /// throws naming the value when it is not an absolute http(s) URL.
    /// </summary>
    public static Uri? PrometheusOtlpEndpoint(IConfiguration configuration)
    {
        var value = configuration[PrometheusOtlpEndpointKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https"
            ? endpoint
            : throw new InvalidOperationException(
                $"{PrometheusOtlpEndpointKey} '{value}' must be the absolute http(s) URL of Prometheus' OTLP receiver, such as http://127.0.0.1:9090/api/v1/otlp/v1/metrics.");
    }

    /// <summary>The OTLP endpoint without path, query or credentials, fit for a log line.</summary>
    public static string DescribeOtlpEndpoint(IConfiguration configuration) =>
        Uri.TryCreate(configuration[OtlpEndpointKey], UriKind.Absolute, out var endpoint)
            ? $"{endpoint.Scheme}://{endpoint.Host}:{endpoint.Port}"
            : "(not a valid URI)";

    public static MeterProvider CreateMeterProvider(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ServiceDefaultsOptions>>().Value;
        var configuration = services.GetRequiredService<IConfiguration>();
        var scrapeEndpoint = services.GetRequiredService<PrometheusScrapeEndpoint>();
        var buckets = ServiceDefaultsOptions.LatencyBucketBoundaries.ToArray();
        var cardinalityLimit = options.MetricCardinalityLimit;
        GcLiveHeapMetrics.EnsureCreated();

        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureServices(s => s.AddSingleton(configuration))
            .ConfigureResource(resource => ConfigureResource(resource, services))
            .AddMeter([.. ServiceDefaultsOptions.DefaultMeters.Concat(options.AdditionalMeters).Distinct(StringComparer.Ordinal)])
            .AddView(instrument => SelectStream(instrument, buckets, cardinalityLimit))
            .AddReader(new BaseExportingMetricReader(scrapeEndpoint.Exporter)
            {
                TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
            });

        foreach (var callback in services.GetServices<TelemetryBuilderCallback<MeterProviderBuilder>>())
        {
            callback.Configure(services, builder);
        }

        if (IsOtlpEnabled(configuration))
        {
            builder.AddOtlpExporter();
        }

        if (PrometheusOtlpEndpoint(configuration) is { } prometheus)
        {
            // A copy of the metrics for Prometheus' OTLP receiver, beside (not instead of) the dashboard's
            // exporter. The receiver takes HTTP/protobuf only, rejects delta sums, and must not be sent the
            // dashboard's OTEL_EXPORTER_OTLP_HEADERS (its API key), which named options would inherit.
            builder.AddOtlpExporter(PrometheusExporterName, (exporter, reader) =>
            {
                exporter.Endpoint = prometheus;
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Headers = null;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            });
        }

        return builder.Build();
    }

    public static TracerProvider CreateTracerProvider(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ServiceDefaultsOptions>>().Value;
        var configuration = services.GetRequiredService<IConfiguration>();

        var callbacks = services.GetServices<TelemetryBuilderCallback<TracerProviderBuilder>>().ToList();
        var otlp = IsOtlpEnabled(configuration);
        var builder = Sdk.CreateTracerProviderBuilder()
            .ConfigureServices(s => s.AddSingleton(configuration))
            .ConfigureResource(resource => ConfigureResource(resource, services));

        // Listening makes ASP.NET Core and HttpClient create an activity per request; with nowhere to
        // send them (no OTLP endpoint, no registered processor) that is work for nothing.
        if (otlp || callbacks.Count > 0)
        {
            builder.AddSource([.. ServiceDefaultsOptions.DefaultActivitySources.Concat(options.AdditionalActivitySources).Distinct(StringComparer.Ordinal)]);
        }

        foreach (var callback in callbacks)
        {
            callback.Configure(services, builder);
        }

        if (otlp)
        {
            builder.AddOtlpExporter();
        }

        return builder.Build();
    }

    /// <summary>
    /// The resource: service name from <c>OTEL_SERVICE_NAME</c> or the application name, the version
    /// of the entry assembly, then <c>OTEL_RESOURCE_ATTRIBUTES</c> (which Aspire uses for the instance id).
    /// </summary>
    public static void ConfigureResource(ResourceBuilder resource, IServiceProvider services) =>
        ConfigureResource(resource, services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IHostEnvironment>());

    /// <inheritdoc cref="ConfigureResource(ResourceBuilder, IServiceProvider)"/>
    public static void ConfigureResource(ResourceBuilder resource, IConfiguration configuration, IHostEnvironment environment)
    {
        var serviceName = configuration[ServiceNameKey] is { Length: > 0 } configured ? configured : environment.ApplicationName;
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        resource.Clear()
            .AddService(serviceName, serviceVersion: version, autoGenerateServiceInstanceId: false)
            .AddTelemetrySdk()
            .AddEnvironmentVariableDetector();
    }

    /// <summary>
    /// Flushes and shuts the providers down within a bounded time each, so shutdown cannot hang on an
    /// exporter. The meter provider's own result is false whenever the pull reader is present (it
    /// refuses a collection nobody asked for), so only running out of time counts as incomplete.
    /// </summary>
    public static void Shutdown(MeterProvider? meterProvider, TracerProvider? tracerProvider, TimeProvider timeProvider, ILogger logger)
    {
        if (tracerProvider is not null)
        {
            var started = timeProvider.GetTimestamp();
            if (!tracerProvider.Shutdown(ShutdownTimeoutMilliseconds) && timeProvider.GetElapsedTime(started).TotalMilliseconds >= ShutdownTimeoutMilliseconds)
            {
                Log.TelemetryShutdownIncomplete(logger, "tracer", ShutdownTimeoutMilliseconds);
            }

        }

        if (meterProvider is not null)
        {
            var started = timeProvider.GetTimestamp();
            if (!meterProvider.Shutdown(ShutdownTimeoutMilliseconds) && timeProvider.GetElapsedTime(started).TotalMilliseconds >= ShutdownTimeoutMilliseconds)
            {
                Log.TelemetryShutdownIncomplete(logger, "meter", ShutdownTimeoutMilliseconds);
            }

        }
    }

    private static MetricStreamConfiguration SelectStream(Instrument instrument, double[] buckets, int cardinalityLimit)
    {
        var isHistogram = instrument.GetType() is { IsGenericType: true } type
            && type.GetGenericTypeDefinition() == typeof(Histogram<>);
        if (isHistogram && instrument.Unit == "s")
        {
            return new ExplicitBucketHistogramConfiguration { Boundaries = buckets, CardinalityLimit = cardinalityLimit };
        }

        return new MetricStreamConfiguration { CardinalityLimit = cardinalityLimit };
    }
}
