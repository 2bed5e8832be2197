using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OptimizedCache.ServiceDefaults;
using OptimizedCache.ServiceDefaults.Internal;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service wiring every OptimizedCache service shares, in the shape of Aspire's ServiceDefaults:
/// OpenTelemetry metrics and traces (OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), the
/// Prometheus scrape endpoint and the health endpoints.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Readiness: every registered health check.</summary>
    public const string HealthEndpointPath = "/health";

    /// <summary>Liveness: only the checks tagged <see cref="LiveTag"/>.</summary>
    public const string AliveEndpointPath = "/alive";

    /// <summary>The Prometheus scrape endpoint (text format 0.0.4).</summary>
    public const string MetricsEndpointPath = "/metrics";

    /// <summary>The tag that puts a health check into the liveness probe as well as readiness.</summary>
    public const string LiveTag = "live";

    /// <summary>
    /// Adds OpenTelemetry (<see cref="ConfigureOpenTelemetry{TBuilder}"/>) and the default health
    /// checks (<see cref="AddDefaultHealthChecks{TBuilder}"/>). Safe to call more than once.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        OpenApiDefaults.AddDefaultOpenApi(builder.Services);
        BadRequestDefaults.Add(builder.Services);
        return builder;
    }

    /// <summary>
    /// Registers a <see cref="MeterProvider"/> and a <see cref="TracerProvider"/> built with the
    /// OpenTelemetry SDK, started and disposed with the host. Metrics come from
    /// <see cref="ServiceDefaultsOptions.DefaultMeters"/> and <see cref="ServiceDefaultsOptions.AdditionalMeters"/>,
    /// traces from the matching activity sources; histograms in seconds get the latency buckets of
    /// <see cref="ServiceDefaultsOptions.LatencyBucketBoundaries"/>. Metrics are served at
    /// <see cref="MetricsEndpointPath"/> by <see cref="MapDefaultEndpoints"/> and, with
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set (configuration or environment), metrics, traces and logs
    /// are exported over OTLP. With <c>Telemetry:PrometheusOtlpEndpoint</c> set (the full URL of a Prometheus
    /// OTLP receiver, <c>…/api/v1/otlp/v1/metrics</c>), metrics are pushed there too, over HTTP/protobuf with
    /// cumulative temporality, so every replica reaches Prometheus on its own. Other code extends the providers with
    /// <see cref="ConfigureServiceDefaultsMetrics"/> and <see cref="ConfigureServiceDefaultsTracing"/>.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(PrometheusScrapeEndpoint)))
        {
            return builder;
        }

        services.AddOptions<ServiceDefaultsOptions>()
            .BindConfiguration(ServiceDefaultsOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceDefaultsOptions>, ServiceDefaultsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PrometheusScrapeEndpoint>();
        services.AddSingleton(TelemetryProviders.CreateMeterProvider);
        services.AddSingleton(TelemetryProviders.CreateTracerProvider);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TelemetryLifetime>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, RequestActivityStartupFilter>());

        if (TelemetryProviders.IsOtlpEnabled(builder.Configuration))
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });
            var configuration = builder.Configuration;
            var environment = builder.Environment;
            services.ConfigureOpenTelemetryLoggerProvider(logging => logging
                .ConfigureResource(resource => TelemetryProviders.ConfigureResource(resource, configuration, environment))
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>
    /// Registers a change to the <see cref="MeterProviderBuilder"/> that <see cref="ConfigureOpenTelemetry{TBuilder}"/>
    /// builds (extra meters, views, readers), applied in registration order when the provider is built.
    /// </summary>
    public static IServiceCollection ConfigureServiceDefaultsMetrics(this IServiceCollection services, Action<IServiceProvider, MeterProviderBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddSingleton(new TelemetryBuilderCallback<MeterProviderBuilder>(configure));
    }

    /// <summary>
    /// Registers a change to the <see cref="TracerProviderBuilder"/> that <see cref="ConfigureOpenTelemetry{TBuilder}"/>
    /// builds (extra sources, processors, a sampler), applied in registration order when the provider is built.
    /// </summary>
    public static IServiceCollection ConfigureServiceDefaultsTracing(this IServiceCollection services, Action<IServiceProvider, TracerProviderBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddSingleton(new TelemetryBuilderCallback<TracerProviderBuilder>(configure));
    }

    /// <summary>
    /// Adds the health checks every service has: <c>self</c>, tagged <see cref="LiveTag"/>. Services add
    /// their own (Redis, circuit state) with <c>builder.Services.AddHealthChecks().AddCheck&lt;T&gt;(...)</c>.
    /// </summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks();
        builder.Services.Configure<HealthCheckServiceOptions>(options =>
        {
            if (!options.Registrations.Any(r => r.Name == "self"))
            {
                options.Registrations.Add(new HealthCheckRegistration(
                    "self", _ => SelfHealthCheck.Instance, failureStatus: null, tags: [LiveTag]));
            }
        });
        return builder;
    }

    /// <summary>
    /// Maps <see cref="HealthEndpointPath"/> (readiness: every check; 503 when any is unhealthy),
    /// <see cref="AliveEndpointPath"/> (liveness: the <see cref="LiveTag"/> checks only), both with a
    /// JSON body listing each check's status, description and duration, and <see cref="MetricsEndpointPath"/>
    /// (the OpenTelemetry metrics in the Prometheus text format), and the API description
    /// (<see cref="OpenApiDefaults"/>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions
        {
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        app.MapHealthChecks(AliveEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        app.MapGet(MetricsEndpointPath, PrometheusScrapeEndpoint.HandleAsync)
            .ExcludeFromDescription();
        OpenApiDefaults.MapDefaultOpenApi(app);
        return app;
    }

    private sealed class SelfHealthCheck : IHealthCheck
    {
        public static SelfHealthCheck Instance { get; } = new();

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy("The process answers."));
    }
}
