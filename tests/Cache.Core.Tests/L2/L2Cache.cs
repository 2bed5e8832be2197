using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>
/// An L1 + L2 cache built the way an application builds it, on the system clock (the Redis side runs on real time),
/// with its own key prefix so tests sharing one redis-server do not see each other's entries.
/// </summary>
public sealed class L2Cache : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private L2Cache(ServiceProvider services)
    {
        _services = services;
        Cache = services.GetRequiredService<OptimizedHybridCache>();
    }

    public OptimizedHybridCache Cache { get; }

    public IServiceProvider Services => _services;

    internal RedisDistributedTier Tier => Cache.DistributedTier ?? throw new InvalidOperationException("No L2 tier.");

    internal static async Task<L2Cache> StartAsync(string connectionString, string keyPrefix, Action<OptimizedHybridCacheOptions>? configure = null, bool waitForRedis = true)
    {
        var services = new ServiceCollection();
        services.AddSingleton<MemorySnapshotSource>(() => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30));
        services.AddOptimizedHybridCache(options =>
        {
            options.L1MaximumBytes = 64L << 20;
            options.KeyPrefix = keyPrefix;
            options.RedisConnectionString = connectionString;
            options.Resilience.Timeout = TimeSpan.FromSeconds(1); // the suite runs many servers at once on two cores: not a deadline test
            configure?.Invoke(options);
        });
        var cache = new L2Cache(services.BuildServiceProvider());
        if (waitForRedis)
        {
            await cache.WaitUntilL2AvailableAsync();
        }

        return cache;
    }

    /// <summary>Waits (bounded) until a call to Redis would be attempted.</summary>
    public async Task WaitUntilL2AvailableAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!Tier.Redis.IsAvailable)
        {
            Assert.True(DateTime.UtcNow < deadline, $"L2 did not become available (connection {Tier.Redis.ConnectionState}, circuit {Tier.Redis.CircuitState}).");
            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>Collects one cache's measurements.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly List<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = [];

    public MetricRecorder(OptimizedHybridCache cache)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, cache.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
        _listener.Start();
    }

    public void Collect() => _listener.RecordObservableInstruments();

    public double Sum(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Sum(m => m.Value);

    public IReadOnlyList<double> Values(string name) => Matching(name, []).Select(m => m.Value).ToList();

    public IReadOnlyList<KeyValuePair<string, object?>[]> TagSets(string name) => Matching(name, []).Select(m => m.Tags).ToList();

    public void Dispose() => _listener.Dispose();

    private List<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags)
    {
        lock (_lock)
        {
            return _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value)))).ToList();
        }
    }

    private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            _measurements.Add((name, value, tags.ToArray()));
        }
    }
}
