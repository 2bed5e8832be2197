using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// Ties the providers to the host: they are built before any other hosted service starts (so the
/// first requests are measured) and flushed and shut down after every hosted service has stopped (so
/// the last measurements are exported). The container disposes them, once, on its own disposal: a
/// second dispose of a meter provider here raced the first.
/// </summary>
internal sealed class TelemetryLifetime(IServiceProvider services, IConfiguration configuration, TimeProvider timeProvider, ILogger<TelemetryLifetime> logger) : IHostedLifecycleService
{
    private MeterProvider? _meterProvider;
    private TracerProvider? _tracerProvider;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _meterProvider = services.GetRequiredService<MeterProvider>();
        _tracerProvider = services.GetRequiredService<TracerProvider>();
        if (TelemetryProviders.IsOtlpEnabled(configuration))
        {
            Log.OtlpExportEnabled(logger, TelemetryProviders.DescribeOtlpEndpoint(configuration), configuration[TelemetryProviders.OtlpProtocolKey] ?? "grpc");
        }

        if (TelemetryProviders.PrometheusOtlpEndpoint(configuration) is { } prometheus)
        {
            Log.PrometheusOtlpExportEnabled(logger, $"{prometheus.Scheme}://{prometheus.Host}:{prometheus.Port}{prometheus.AbsolutePath}");
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        TelemetryProviders.Shutdown(Interlocked.Exchange(ref _meterProvider, null), Interlocked.Exchange(ref _tracerProvider, null), timeProvider, logger);
        return Task.CompletedTask;
    }
}
