using System.Diagnostics.Metrics;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>The OptimizedCache meter reports what docs/metrics.md lists, and never a key.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task RequestsAreCountedByTierResultAndDataType()
    {
        using var test = TestCache.Create();
        using var recorder = new Recorder(test.Cache);
        await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("a"));
        await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("a"));
        await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("a"));
        await test.Cache.GetOrCreateAsync("unprefixed", _ => ValueTask.FromResult("b"));

        recorder.Collect();

        Assert.Equal(2, recorder.Latest(OptimizedCacheMetrics.Requests, ("tier", "l1"), ("result", "hit"), ("data_type", "product")));
        Assert.Equal(1, recorder.Latest(OptimizedCacheMetrics.Requests, ("tier", "l1"), ("result", "miss"), ("data_type", "product")));
        Assert.Equal(1, recorder.Latest(OptimizedCacheMetrics.Requests, ("tier", "l1"), ("result", "miss"), ("data_type", "other")));
        Assert.Equal(2, recorder.Sum(OptimizedCacheMetrics.FactoryCalls, ("outcome", "success")));
    }

    [Fact]
    public async Task EvictionsStaleServedGaugesAndDurationsAreReported()
    {
        using var test = TestCache.Create(o => o.L1MaximumBytes = 64 * 1024);
        using var recorder = new Recorder(test.Cache);
        for (var i = 0; i < 200; i++)
        {
            await test.Cache.SetAsync($"customer:{i}", new string('x', 1000));
        }

        await test.Cache.GetOrCreateAsync("product:9", _ => ValueTask.FromResult("v"), new() { Expiration = TimeSpan.FromSeconds(1) });
        test.Time.Advance(TimeSpan.FromSeconds(2));
        await test.Cache.GetOrCreateAsync<string>("product:9", _ => throw new InvalidOperationException(), new() { Expiration = TimeSpan.FromSeconds(1) });
        await test.Cache.RemoveByTagAsync("some-tag");
        recorder.Collect();

        Assert.True(recorder.Sum(OptimizedCacheMetrics.Evictions, ("reason", "capacity")) > 0);
        Assert.Equal(1, recorder.Sum(OptimizedCacheMetrics.StaleServed, ("data_type", "product")));
        Assert.Equal(1, recorder.Sum(OptimizedCacheMetrics.FactoryCalls, ("outcome", "error")));
        Assert.Equal(1, recorder.Sum(OptimizedCacheMetrics.Invalidations, ("kind", "tag"), ("source", "local")));
        Assert.InRange(recorder.Latest(OptimizedCacheMetrics.L1Size), 1, 64 * 1024);
        Assert.Equal(64 * 1024, recorder.Latest(OptimizedCacheMetrics.L1Budget));
        Assert.True(recorder.Latest(OptimizedCacheMetrics.L1Entries) > 0);
        Assert.True(recorder.Count(OptimizedCacheMetrics.OperationDuration, ("operation", "set"), ("tier", "l1")) >= 200);
    }

    [Fact]
    public async Task NoTagValueIsEverAKey()
    {
        using var test = TestCache.Create();
        using var recorder = new Recorder(test.Cache);
        var keys = Enumerable.Range(0, 20).Select(i => $"product:secret-{i}").ToArray();
        foreach (var key in keys)
        {
            await test.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"));
            await test.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"));
            await test.Cache.RemoveAsync(key);
        }

        recorder.Collect();

        Assert.NotEmpty(recorder.Measurements);
        Assert.DoesNotContain(recorder.Measurements, m => m.Tags.Any(t => t.Value is string s && s.Contains("secret", StringComparison.Ordinal)));
    }

    /// <summary>Listens to this cache's meter only (tests run in parallel, each with its own meter).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _lock = new();

        public Recorder(OptimizedHybridCache cache)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, cache.Meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
            _listener.Start();
        }

        public List<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Measurements { get; } = [];

        public void Collect() => _listener.RecordObservableInstruments();

        public double Latest(string name, params (string Key, string Value)[] tags)
            => Matching(name, tags).Select(m => m.Value).LastOrDefault();

        public double Sum(string name, params (string Key, string Value)[] tags)
            => Matching(name, tags).Sum(m => m.Value);

        public int Count(string name, params (string Key, string Value)[] tags)
            => Matching(name, tags).Count();

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags)
        {
            lock (_lock)
            {
                return Measurements
                    .Where(m => m.Name == name && tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))))
                    .ToList();
            }
        }

        private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_lock)
            {
                Measurements.Add((name, value, tags.ToArray()));
            }
        }
    }
}
