using Microsoft.Extensions.Logging;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>The service wiring's log messages.</summary>
internal static partial class Log
{
    public const int OtlpExportEnabledId = 1;
    public const int MetricNameConflictId = 2;
    public const int MetricSerializationFailedId = 3;
    public const int MetricCollectionFailedId = 4;
    public const int TelemetryShutdownIncompleteId = 5;
    public const int PrometheusOtlpExportEnabledId = 6;

    [LoggerMessage(EventId = OtlpExportEnabledId, Level = LogLevel.Information,
        Message = "Exporting metrics, traces and logs over OTLP ({Protocol}) to {Endpoint}.")]
    public static partial void OtlpExportEnabled(ILogger logger, string endpoint, string protocol);

    [LoggerMessage(EventId = PrometheusOtlpExportEnabledId, Level = LogLevel.Information,
        Message = "Pushing metrics to Prometheus' OTLP receiver at {Endpoint} as well.")]
    public static partial void PrometheusOtlpExportEnabled(ILogger logger, string endpoint);

    [LoggerMessage(EventId = MetricNameConflictId, Level = LogLevel.Warning,
        Message = "Metric '{MetricName}' of meter '{MeterName}' maps to the Prometheus name '{PrometheusName}', already used by a {ExistingKind}; /metrics leaves it out.")]
    public static partial void MetricNameConflict(ILogger logger, string metricName, string meterName, string prometheusName, PrometheusKind existingKind);

    [LoggerMessage(EventId = MetricSerializationFailedId, Level = LogLevel.Error,
        Message = "Rendering the metrics for /metrics failed.")]
    public static partial void MetricSerializationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = MetricCollectionFailedId, Level = LogLevel.Warning,
        Message = "Collecting the metrics for /metrics failed or timed out after {TimeoutMilliseconds} ms.")]
    public static partial void MetricCollectionFailed(ILogger logger, int timeoutMilliseconds);

    [LoggerMessage(EventId = TelemetryShutdownIncompleteId, Level = LogLevel.Warning,
        Message = "The OpenTelemetry {Signal} provider did not finish exporting within {TimeoutMilliseconds} ms of shutdown.")]
    public static partial void TelemetryShutdownIncomplete(ILogger logger, string signal, int timeoutMilliseconds);
}
