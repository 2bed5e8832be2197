using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// A pull exporter: the SDK collects only when <see cref="Scrape"/> asks it to (through the
/// <see cref="IPullMetricExporter.Collect"/> delegate its reader installs), and the export renders
/// the collection as Prometheus text on the scraping thread. The reader's temporality is cumulative,
/// as Prometheus expects.
/// </summary>
[ExportModes(ExportModes.Pull)]
internal sealed class PrometheusExporter(ILogger<PrometheusExporter> logger) : BaseExporter<Metric>, IPullMetricExporter
{
    private readonly PrometheusNameCache _names = new();
    private readonly HashSet<string> _reportedConflicts = new(StringComparer.Ordinal);
    private byte[]? _rendered;

    /// <inheritdoc />
    public Func<int, bool>? Collect { get; set; }

    /// <summary>
    /// Collects and renders the current metrics, or returns null when the provider is gone or the
    /// collection failed. Callers serialize scrapes (<see cref="PrometheusScrapeEndpoint"/>).
    /// </summary>
    public byte[]? Scrape(int timeoutMilliseconds)
    {
        var collect = Collect;
        if (collect is null || Volatile.Read(ref _shutDown))
        {
            return null;
        }

        _rendered = null;
        if (!collect(timeoutMilliseconds))
        {
            Log.MetricCollectionFailed(logger, timeoutMilliseconds);
            return null;
        }

        return Interlocked.Exchange(ref _rendered, null) ?? Finish(new PrometheusTextSerializer());
    }

    /// <inheritdoc />
    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        Volatile.Write(ref _shutDown, true); // the host stopped: scrapes answer 503 from now on
        return base.OnShutdown(timeoutMilliseconds);
    }

    private bool _shutDown;

    /// <inheritdoc />
    public override ExportResult Export(in Batch<Metric> batch)
    {
        // Rendering must not produce telemetry of its own (it would feed the next scrape).
        using var scope = SuppressInstrumentationScope.Begin();
        try
        {
            _rendered = Render(in batch);
            return ExportResult.Success;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.MetricSerializationFailed(logger, exception);
            return ExportResult.Failure;
        }
    }

    private byte[] Render(in Batch<Metric> batch)
    {
        var serializer = new PrometheusTextSerializer();
        foreach (var metric in batch)
        {
            var conflict = serializer.Add(metric, _names);
            if (conflict is { } existing && _reportedConflicts.Count < 1000 && _reportedConflicts.Add(metric.MeterName + "/" + metric.Name))
            {
                Log.MetricNameConflict(logger, metric.Name, metric.MeterName, _names.Get(metric.Name, metric.Unit, PrometheusNaming.KindOf(metric.MetricType)), existing);
            }
        }

        return Finish(serializer);
    }

    private byte[] Finish(PrometheusTextSerializer serializer)
    {
        serializer.AddTargetInfo(ParentProvider?.GetResource());
        return serializer.ToUtf8();
    }
}
