using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Tests.Invalidation;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>The cache through Redis Sentinel (a primary, a replica, one sentinel): found by service name, and serving through a failover.</summary>
public sealed class SentinelTests
{
    private static readonly HybridCacheEntryOptions L1Off = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
    };

    [Fact]
    public async Task TheCacheFindsThePrimaryByServiceNameAndServesThroughASentinelFailoverWithNoFailedCall()
    {
        await using var sentinel = await RedisSentinelSet.StartAsync();
        var services = new ServiceCollection();
        services.AddSingleton<MemorySnapshotSource>(() => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30));
        services.AddOptimizedHybridCache(o =>
        {
            o.RedisConnectionString = sentinel.ConnectionString + ",connectTimeout=2000";
            o.Resilience.MaximumReconnectDelay = TimeSpan.FromMilliseconds(200);
        });
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        await Replicas.WaitUntilAsync(() => cache.Redis!.IsAvailable, "the connection through the sentinel", 15);

        var keys = Enumerable.Range(0, 200).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "v");
        }

        await using (var primary = await RawRedis.ConnectAsync($"127.0.0.1:{sentinel.PrimaryPort}"))
        {
            Assert.Equal(keys.Length, await primary.ExistsAsync(keys.Select(k => cache.DistributedTier!.RedisKey(k))));
        }

        var failures = 0L;
        var reads = 0L;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var i = w;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await cache.GetOrCreateAsync(keys[i++ % keys.Length], _ => ValueTask.FromResult("origin"), L1Off);
                    Interlocked.Increment(ref reads);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        await Replicas.WaitUntilAsync(() => Interlocked.Read(ref reads) > 500, "reads before the failover");
        await sentinel.FailoverAsync();
        var newPrimary = await sentinel.CurrentPrimaryPortAsync();
        Assert.Equal(sentinel.ReplicaPort, newPrimary);

        // writes reach the new primary once the cache has followed the switch
        await using var promoted = await RawRedis.ConnectAsync($"127.0.0.1:{newPrimary}");
        var written = cache.DistributedTier!.RedisKey("product:after");
        await Replicas.WaitUntilAsync(
            () =>
            {
                cache.SetAsync("product:after", "new").AsTask().GetAwaiter().GetResult();
                return promoted.ExistsAsync([written]).GetAwaiter().GetResult() == 1;
            },
            "a write on the new primary",
            20);

        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.Equal(0, failures);
        Assert.Equal("new", await cache.GetOrCreateAsync("product:after", _ => ValueTask.FromResult("origin"), L1Off));
    }

    [Fact]
    public async Task NoValueRemovedBeforeASentinelFailoverComesBackAfterIt()
    {
        await using var sentinel = await RedisSentinelSet.StartAsync();
        await using var caches = await SentinelCaches.StartAsync(sentinel, 2);
        var (a, b) = (caches[0], caches[1]);
        var keys = Enumerable.Range(0, 300).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await a.SetAsync(key, "old");
        }

        // removals run while the primary switches; every one of them has returned before the checks
        var removing = Task.Run(async () =>
        {
            foreach (var key in keys)
            {
                await a.RemoveAsync(key);
            }
        });
        await sentinel.FailoverAsync();
        await removing;
        await Replicas.WaitUntilAsync(() => a.PrimarySwitches >= 1 && b.PrimarySwitches >= 1, "both instances answering the switch", 20);

        var resurrected = 0;
        foreach (var key in keys)
        {
            if (await b.GetOrCreateAsync(key, _ => ValueTask.FromResult("fresh"), L1Off) == "old")
            {
                resurrected++;
            }
        }

        Assert.Equal(0, resurrected);
    }
}

/// <summary>Cache instances through one Sentinel.</summary>
internal sealed class SentinelCaches : IAsyncDisposable
{
    private readonly List<ServiceProvider> _providers = [];
    private readonly List<OptimizedHybridCache> _caches = [];

    public OptimizedHybridCache this[int index] => _caches[index];

    public static async Task<SentinelCaches> StartAsync(RedisSentinelSet sentinel, int count)
    {
        var caches = new SentinelCaches();
        for (var i = 0; i < count; i++)
        {
            var services = new ServiceCollection();
            services.AddSingleton<MemorySnapshotSource>(() => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30));
            services.AddOptimizedHybridCache(o =>
            {
                o.RedisConnectionString = sentinel.ConnectionString + ",connectTimeout=2000";
                o.Resilience.MaximumReconnectDelay = TimeSpan.FromMilliseconds(200);
                o.Resilience.Timeout = TimeSpan.FromSeconds(1); // the suite runs many servers at once on two cores: not a deadline test
            });
            var provider = services.BuildServiceProvider();
            caches._providers.Add(provider);
            caches._caches.Add(provider.GetRequiredService<OptimizedHybridCache>());
        }

        foreach (var cache in caches._caches)
        {
            await cache.Subscription.WaitAsync(TimeSpan.FromSeconds(15));
            await Replicas.WaitUntilAsync(() => cache.Redis!.IsAvailable, "the connection through the sentinel", 15);
        }

        return caches;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }
}
