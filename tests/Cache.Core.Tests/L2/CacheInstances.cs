using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Tests.Invalidation;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>Cache instances over one Redis deployment (a cluster, or a primary found through Sentinel), each with its own multiplexer.</summary>
internal sealed class CacheInstances : IAsyncDisposable
{
    private readonly List<ServiceProvider> _providers = [];
    private readonly List<OptimizedHybridCache> _caches = [];

    public OptimizedHybridCache this[int index] => _caches[index];

    /// <summary>Starts <paramref name="count"/> instances and waits until each is subscribed and can reach Redis (as a cluster when <paramref name="cluster"/>).</summary>
    public static async Task<CacheInstances> StartAsync(string connectionString, int count, bool cluster, Action<OptimizedHybridCacheOptions>? configure = null)
    {
        var instances = new CacheInstances();
        for (var i = 0; i < count; i++)
        {
            var services = new ServiceCollection();
            services.AddSingleton<MemorySnapshotSource>(() => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30));
            services.AddOptimizedHybridCache(o =>
            {
                o.RedisConnectionString = connectionString + ",connectTimeout=2000";
                o.Resilience.MaximumReconnectDelay = TimeSpan.FromMilliseconds(200);
                o.Resilience.Timeout = TimeSpan.FromSeconds(1); // the suite runs many servers at once on two cores: not a deadline test
                configure?.Invoke(o);
            });
            var provider = services.BuildServiceProvider();
            instances._providers.Add(provider);
            instances._caches.Add(provider.GetRequiredService<OptimizedHybridCache>());
        }

        foreach (var cache in instances._caches)
        {
            await cache.Subscription.WaitAsync(TimeSpan.FromSeconds(15));
            await Replicas.WaitUntilAsync(() => cache.Redis!.IsAvailable && (!cluster || cache.Redis.IsCluster), "the connection to Redis", 15);
        }

        return instances;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }
}

/// <summary>Workers reading keys through a cache with L1 off (every read goes to L2, or to the origin while L2 is unavailable), counting reads and failures.</summary>
internal sealed class ReadLoad : IAsyncDisposable
{
    public static readonly HybridCacheEntryOptions L1Off = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
    };

    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private long _reads;
    private long _failures;
    private int _stopped;

    public ReadLoad(OptimizedHybridCache cache, string[] keys, int workers)
    {
        _workers = [.. Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var i = w;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await cache.GetOrCreateAsync(keys[i++ % keys.Length], _ => ValueTask.FromResult("origin"), L1Off);
                    Interlocked.Increment(ref _reads);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _failures);
                }
            }
        }))];
    }

    public long Reads => Interlocked.Read(ref _reads);

    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Stops the workers and waits for them (again a no-op).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_workers);
            _stop.Dispose();
        }
    }
}
