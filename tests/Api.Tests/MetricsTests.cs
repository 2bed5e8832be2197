using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OptimizedCache.Api.Telemetry;

namespace OptimizedCache.Api.Tests;

public sealed class MetricsTests
{
    [Fact]
    public async Task RequestsAndOriginCallsAreRecordedWithTheirPathResultAndStatusClass()
    {
        var seen = new ConcurrentBag<(string Instrument, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ApiMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) => seen.Add((i.Name, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<long>((i, _, tags, _) => seen.Add((i.Name, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => seen.Add((i.Name + "=" + value, ToDictionary(tags))));
        listener.Start();

        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using (await api.Client.GetAsync("/api/products/5"))
        using (await api.Client.GetAsync("/api/products/5"))
        using (await api.Client.GetAsync("/api/products/abc"))
        {
        }

        listener.RecordObservableInstruments();
        var durations = seen.Where(s => s.Instrument == ApiMetrics.RequestDuration).Select(s => s.Tags).ToList();
        Assert.Contains(durations, t => Is(t, "reads", "cached", "miss", "2xx"));
        Assert.Contains(durations, t => Is(t, "reads", "cached", "hit", "2xx"));
        Assert.Contains(durations, t => (string?)t["status_class"] == "4xx");
        Assert.Contains(seen, s => s.Instrument == ApiMetrics.OriginCalls
            && (string?)s.Tags["endpoint"] == "products.get" && (string?)s.Tags["cache_path"] == "cached" && (string?)s.Tags["outcome"] == "success");
        Assert.Contains(seen, s => s.Instrument == ApiMetrics.RolloutPhase + "=3");
        Assert.Contains(seen, s => s.Instrument == ApiMetrics.FeaturePercentage + "=100" && (string?)s.Tags["feature"] == "Cache.Writes");
    }

    private static bool Is(Dictionary<string, object?> tags, string group, string path, string result, string status) =>
        (string?)tags["group"] == group && (string?)tags["cache_path"] == path && (string?)tags["cache_result"] == result
        && (string?)tags["status_class"] == status;

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }
}
