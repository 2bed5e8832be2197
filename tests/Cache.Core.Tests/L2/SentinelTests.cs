using OptimizedCache.Cache.Core.Tests.Invalidation;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>The cache through Redis Sentinel (a primary, a replica, one sentinel): found by service name, and serving through a failover.</summary>
public sealed class SentinelTests
{
    [Fact]
    public async Task TheCacheFindsThePrimaryByServiceNameAndServesThroughASentinelFailoverWithNoFailedCall()
    {
        await using var sentinel = await RedisSentinelSet.StartAsync();
        await using var caches = await CacheInstances.StartAsync(sentinel.ConnectionString, 1, cluster: false);
        var cache = caches[0];

        var keys = Enumerable.Range(0, 200).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "v");
        }

        await using (var primary = await RawRedis.ConnectAsync($"127.0.0.1:{sentinel.PrimaryPort}"))
        {
            Assert.Equal(keys.Length, await primary.ExistsAsync(keys.Select(k => cache.DistributedTier!.RedisKey(k))));
        }

        await using var load = new ReadLoad(cache, keys, workers: 8);
        await Replicas.WaitUntilAsync(() => load.Reads > 500, "reads before the failover");
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

        await load.DisposeAsync();
        Assert.Equal(0, load.Failures);
        Assert.Equal("new", await cache.GetOrCreateAsync("product:after", _ => ValueTask.FromResult("origin"), ReadLoad.L1Off));
    }

    [Fact]
    public async Task NoValueRemovedBeforeASentinelFailoverComesBackAfterIt()
    {
        await using var sentinel = await RedisSentinelSet.StartAsync();
        await using var caches = await CacheInstances.StartAsync(sentinel.ConnectionString, 2, cluster: false);
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
            if (await b.GetOrCreateAsync(key, _ => ValueTask.FromResult("fresh"), ReadLoad.L1Off) == "old")
            {
                resurrected++;
            }
        }

        Assert.Equal(0, resurrected);
    }
}
