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
}
