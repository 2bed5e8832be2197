using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace OptimizedCache.ServiceDefaults.Tests.Infrastructure;

/// <summary>What a finished activity looked like when it was exported.</summary>
internal sealed record ExportedActivity(
    string Source, string DisplayName, ActivitySpanId SpanId, ActivitySpanId ParentSpanId, ActivityStatusCode Status,
    IReadOnlyDictionary<string, object?> Tags);

/// <summary>Keeps exported activities and notes its own shutdown.</summary>
internal sealed class RecordingActivityExporter : BaseExporter<Activity>
{
    public ConcurrentQueue<ExportedActivity> Exported { get; } = new();

    public bool ShutDown { get; private set; }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            Exported.Enqueue(new(
                activity.Source.Name, activity.DisplayName, activity.SpanId, activity.ParentSpanId, activity.Status,
                activity.TagObjects.ToDictionary(t => t.Key, t => t.Value)));
        }

        return ExportResult.Success;
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        ShutDown = true;
        return true;
    }
}

/// <summary>A push metric exporter that only notes its own shutdown (and final export).</summary>
internal sealed class RecordingMetricExporter : BaseExporter<Metric>
{
    public int Exports { get; private set; }

    public bool ShutDown { get; private set; }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        Exports++;
        return ExportResult.Success;
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        ShutDown = true;
        return true;
    }
}
