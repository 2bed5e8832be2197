using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;
using Xunit.Abstractions;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>
/// Invalidations made while Redis is down are applied locally at once, queued, and replayed when it is back, so a
/// value changed during the outage is served stale neither from another replica's L1 nor from L2 afterwards. The
/// server keeps its data across the restart (append-only file), as a production Redis would: L2 still holds the old
/// values when it returns.
/// </summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private static readonly RedisServerOptions Durable = new() { ExtraConfig = ["appendonly yes", "appendfsync always"] };

    private static ValueTask<string> Read(OptimizedHybridCache cache, string key, string origin, string tag, HybridCacheEntryOptions? options = null) =>
        cache.GetOrCreateAsync(key, origin, static (o, _) => ValueTask.FromResult(o), options, [tag]);

    [Fact]
    public async Task AValueChangedDuringAnOutageIsNotServedStaleFromL1OrL2AfterRedisReturns()
    {
        await using var replicas = await Replicas.StartAsync(2, server: await RedisServer.StartAsync(Durable));
        var (a, b) = (replicas[0], replicas[1]);
        foreach (var cache in replicas.Caches)
        {
            Assert.Equal("v1", await Read(cache, "product:1", "v1", "product:1"));
            Assert.Equal("v1", await Read(cache, "customer:1", "v1", "customer:1"));
        }

        await using (var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString))
        {
            await Replicas.WaitUntilAsync(() => raw.ExistsAsync([replicas[0].DistributedTier!.RedisKey("product:1"), replicas[0].DistributedTier!.RedisKey("customer:1")]).Result == 2, "both entries in L2");
        }

        var flushesBefore = b.CoherenceFlushes;
        replicas.Server.Kill();
        await a.RemoveByTagAsync("product:1"); // neither throws while Redis is down
        await a.RemoveAsync("customer:1");
        Assert.Equal(2, a.Outbox.Count);
        Assert.Equal("v2", await Read(a, "product:1", "v2", "product:1")); // this replica's L1 was invalidated at once

        var restarted = Stopwatch.GetTimestamp();
        await replicas.Server.StartAsync();
        await Replicas.WaitUntilAsync(() => a.Outbox.IsEmpty, "the replay of the queued invalidations");
        var replayed = Stopwatch.GetElapsedTime(restarted);
        await Replicas.WaitUntilAsync(() => b.CoherenceFlushes > flushesBefore, "the other replica's L1 flush");

        // the other replica: not from its L1 (flushed), not from L2 (tag time and unlink replayed)
        Assert.Equal("v2", await Read(b, "product:1", "v2", "product:1"));
        Assert.Equal("v2", await Read(b, "customer:1", "v2", "customer:1"));

        // a replica started afterwards reads L2 only: the old entries are gone or invalid there
        var c = replicas.Add();
        await replicas.WaitUntilListeningAsync();
        var l2Only = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        Assert.NotEqual("v1", await Read(c, "product:1", "unused", "product:1", l2Only));
        Assert.NotEqual("v1", await Read(c, "customer:1", "unused", "customer:1", l2Only));
        output.WriteLine($"queued invalidations replayed {replayed.TotalMilliseconds:0} ms after the restart");
    }

    [Fact]
    public async Task L2IsUsedAgainWithinFiveSecondsOfRedisReturning()
    {
        await using var replicas = await Replicas.StartAsync(1, server: await RedisServer.StartAsync(Durable));
        var cache = replicas[0];
        var l2Only = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite };
        Assert.Equal("v1", await Read(cache, "product:1", "v1", "product:1", l2Only));
        await using (var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString))
        {
            await Replicas.WaitUntilAsync(() => raw.ExistsAsync([replicas[0].DistributedTier!.RedisKey("product:1")]).Result == 1, "the entry in L2");
        }

        replicas.Server.Kill();
        await cache.RemoveByTagAsync("unrelated");
        Assert.Equal("origin", await Read(cache, "product:1", "origin", "product:1", l2Only)); // no failure: the factory answers

        var restarted = Stopwatch.GetTimestamp();
        await replicas.Server.StartAsync();
        await Replicas.WaitUntilAsync(() => cache.Redis!.IsAvailable, "L2 available", seconds: 5);
        var l2Only2 = new HybridCacheEntryOptions { Flags = l2Only.Flags | HybridCacheEntryFlags.DisableUnderlyingData };
        string? value = null;
        while (value != "v1" && Stopwatch.GetElapsedTime(restarted) < TimeSpan.FromSeconds(5))
        {
            value = await Read(cache, "product:1", "missed", "product:1", l2Only2);
        }

        Assert.Equal("v1", value); // the entry written before the outage, read from L2
        output.WriteLine($"L2 hit again {Stopwatch.GetElapsedTime(restarted).TotalMilliseconds:0} ms after the restart");
    }

    [Fact]
    public async Task AnOverflowedQueueBecomesAGlobalInvalidationThatEveryReplicaApplies()
    {
        await using var replicas = await Replicas.StartAsync(2, o => o.InvalidationQueueCapacity = 16, await RedisServer.StartAsync(Durable));
        var (a, b) = (replicas[0], replicas[1]);
        await Read(b, "customer:9", "old", "customer:9");
        await Read(b, "product:100", "old", "product:100");
        replicas.Server.Kill();
        for (var i = 0; i < 20; i++)
        {
            await a.RemoveAsync("product:" + i);
        }

        Assert.Equal(1, a.Outbox.Overflows);
        await replicas.Server.StartAsync();
        await Replicas.WaitUntilAsync(() => a.Outbox.IsEmpty, "the replay of the overflow marker");

        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        Assert.NotNull(await raw.GetAsync("oc:tag:*"));
        // entries nobody invalidated explicitly are stale too: the marker covers everything before it
        await Replicas.WaitUntilAsync(() => !b.L1.TryPeek("customer:9", out _), "the other replica dropping everything");
        Assert.Equal("new", await Read(b, "customer:9", "new", "customer:9"));
        Assert.Equal("new", await Read(b, "product:100", "new", "product:100"));
    }

    [Fact]
    public async Task InvalidationsQueueInOrderBehindAnEarlierOneStillWaiting()
    {
        await using var replicas = await Replicas.StartAsync(2, server: await RedisServer.StartAsync(Durable));
        var (a, b) = (replicas[0], replicas[1]);
        replicas.Server.Kill();
        await a.RemoveByTagAsync("first");
        await a.RemoveByTagAsync("second");
        Assert.True(a.Outbox.TryPeek(out var head));
        Assert.Equal("first", head!.Items[0]);

        await replicas.Server.StartAsync();
        await Replicas.WaitUntilAsync(() => a.Outbox.IsEmpty, "the replay");
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        var first = long.Parse(Encoding.ASCII.GetString((await raw.GetAsync("oc:tag:first"))!), System.Globalization.CultureInfo.InvariantCulture);
        var second = long.Parse(Encoding.ASCII.GetString((await raw.GetAsync("oc:tag:second"))!), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(first <= second);
        Assert.Equal(0, b.MalformedInvalidationMessages);
    }
}
