using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Tests.Invalidation;
using OptimizedCache.Testing;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>
/// The cache on a real Redis Cluster (three primaries, each with a replica, on loopback), unchanged: entries,
/// tombstones and scripts keyed by bucket hash tags, multi-key commands split by slot, SCAN on every primary.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterTests(RedisClusterFixture fixture)
{
    private static ValueTask<string> Read(OptimizedHybridCache cache, string key, Func<string> origin, string[]? tags = null) =>
        cache.GetOrCreateAsync(key, origin, static (o, _) => ValueTask.FromResult(o()), tags: tags);

    [Fact]
    public async Task EntriesTagsDependencyRulesAndCoherenceWorkAcrossTwoInstances()
    {
        await using var caches = await CacheInstances.StartAsync(fixture.Cluster.ConnectionString, 2, cluster: true, o => o.DependencyRules["product"] = ["inventory:{id}"]);
        var (a, b) = (caches[0], caches[1]);
        var prefix = "c1-" + Guid.NewGuid().ToString("N")[..6];

        // 300 keys spread over every bucket and so over every primary: written by A, read from L2 by B
        var keys = Enumerable.Range(0, 300).Select(i => $"{prefix}:product:{i}").ToArray();
        foreach (var key in keys)
        {
            await a.SetAsync(key, "v1");
        }

        foreach (var key in keys)
        {
            Assert.Equal("v1", await Read(b, key, () => "origin called"));
        }

        Assert.Equal(keys.Length, b.GetPerformanceStats().L2Hits);

        // a tag invalidated on A voids B's L1 and L2 copies
        Assert.Equal("tagged", await Read(b, prefix + ":catalog:1", () => "tagged", ["catalog"]));
        var before = b.RemoteInvalidationsApplied;
        await a.RemoveByTagAsync("catalog");
        await Replicas.WaitForRemoteAsync(b, before);
        Assert.Equal("fresh", await Read(b, prefix + ":catalog:1", () => "fresh", ["catalog"]));

        // a dependency rule derives the tag from the entity
        Assert.Equal("old", await Read(b, prefix + ":inventory:42", () => "old", ["inventory:42"]));
        before = b.RemoteInvalidationsApplied;
        await a.InvalidateDependentsAsync("product", "42");
        await Replicas.WaitForRemoteAsync(b, before);
        Assert.Equal("new", await Read(b, prefix + ":inventory:42", () => "new", ["inventory:42"]));

        // a removal on A reaches B's L1 and Redis
        before = b.RemoteInvalidationsApplied;
        await a.RemoveAsync(keys[0]);
        await Replicas.WaitForRemoteAsync(b, before);
        Assert.Equal("v2", await Read(b, keys[0], () => "v2"));
    }

    [Fact]
    public async Task APatternInvalidationReachesKeysOnEveryPrimary()
    {
        await using var caches = await CacheInstances.StartAsync(fixture.Cluster.ConnectionString, 2, cluster: true);
        var (a, b) = (caches[0], caches[1]);
        var prefix = "c2-" + Guid.NewGuid().ToString("N")[..6];
        var keys = Enumerable.Range(0, 200).Select(i => $"{prefix}:order:{i}").ToArray();
        foreach (var key in keys)
        {
            await a.SetAsync(key, "v1");
        }

        await using var raw = await RawRedis.ConnectAsync(fixture.Cluster.ConnectionString);
        var perPrimary = new List<int>();
        foreach (var server in raw.Multiplexer.GetServers().Where(s => !s.IsReplica))
        {
            var found = 0;
            await foreach (var _ in server.KeysAsync(pattern: $"*:{prefix}:order:*"))
            {
                found++;
            }

            perPrimary.Add(found);
        }

        Assert.Equal([true, true, true], perPrimary.Select(n => n > 0)); // the keys lie on all three primaries

        var result = await b.InvalidateAsync(prefix + ":order:*");

        Assert.Equal(keys.Length, result.L2Removed);
        Assert.Equal(0, await raw.ExistsAsync(keys.Select(k => a.DistributedTier!.RedisKey(k))));
        Assert.Equal("fresh", await Read(a, keys[7], () => "fresh"));
    }

    [Fact]
    public async Task KillingAPrimaryUnderLoadFailsNoCallAndL2HitsComeBackWithinTenSeconds()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3, replicasPerPrimary: 1);
        await using var caches = await CacheInstances.StartAsync(cluster.ConnectionString, 1, cluster: true);
        var cache = caches[0];
        var keys = Enumerable.Range(0, 500).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "v");
        }

        await using var load = new ReadLoad(cache, keys, workers: 16);
        await Replicas.WaitUntilAsync(() => load.Reads > 1000, "reads before the failover");
        var primaries = await cluster.PrimaryPortsAsync();
        cluster.Kill(primaries[0]);
        var killed = Stopwatch.StartNew();

        // L2 hits come back: a read of every key from L2 with no origin call, within 10 s of the kill
        var back = false;
        while (!back && killed.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
            var hitsBefore = cache.GetPerformanceStats().L2Hits;
            var missesBefore = cache.GetPerformanceStats().L2Misses;
            await Task.Delay(200);
            var stats = cache.GetPerformanceStats();
            back = stats.L2Hits - hitsBefore > 100 && stats.L2Misses == missesBefore;
        }

        var recovered = killed.Elapsed;
        await load.DisposeAsync();

        Assert.Equal(0, load.Failures);
        Assert.True(back, $"L2 hits did not come back (without misses) within 10 s of killing primary {primaries[0]}");
        Assert.True(recovered < TimeSpan.FromSeconds(10), $"L2 hits came back after {recovered}");
    }

    [Fact]
    public async Task NoValueRemovedBeforeAPrimaryIsKilledComesBackAfterTheFailover()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3, replicasPerPrimary: 1);
        await using var caches = await CacheInstances.StartAsync(cluster.ConnectionString, 2, cluster: true);
        var (a, b) = (caches[0], caches[1]);
        var keys = Enumerable.Range(0, 300).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await a.SetAsync(key, "old");
        }

        var primaries = await cluster.PrimaryPortsAsync();
        var removing = Task.Run(async () =>
        {
            foreach (var key in keys)
            {
                await a.RemoveAsync(key);
            }
        });
        cluster.Kill(primaries[0]);
        await removing;
        await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
        await Replicas.WaitUntilAsync(() => a.PrimarySwitches >= 1 && b.PrimarySwitches >= 1, "both instances answering the failover", 20);

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

    [Fact]
    public async Task AnInvalidationMadeWhileTheClusterIsUnreachableIsReplayedWhenItAnswersAgain()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3);
        await using var caches = await CacheInstances.StartAsync(cluster.ConnectionString, 2, cluster: true);
        var (a, b) = (caches[0], caches[1]);
        var keys = Enumerable.Range(0, 50).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await a.SetAsync(key, "old");
        }

        await cluster.SignalAllAsync("STOP");
        try
        {
            foreach (var key in keys)
            {
                await a.RemoveAsync(key); // returns: the L2 part waits in the outbox
            }

            Assert.False(a.Outbox.IsEmpty);
        }
        finally
        {
            await cluster.SignalAllAsync("CONT");
        }

        await Replicas.WaitUntilAsync(() => a.Outbox.IsEmpty, "the replay of the queued removals", 20);
        foreach (var key in keys)
        {
            Assert.Equal("fresh", await b.GetOrCreateAsync(key, _ => ValueTask.FromResult("fresh"), ReadLoad.L1Off));
        }
    }
}

/// <summary>One three-primary cluster with a replica per primary, shared by the cluster tests.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private RedisCluster? _cluster;

    public RedisCluster Cluster => _cluster ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync() => _cluster = await RedisCluster.StartAsync(primaries: 3, replicasPerPrimary: 1);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "Redis cluster";
}
