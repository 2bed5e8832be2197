using OptimizedCache.Cache.Core.Internal;
using StackExchange.Redis;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>
/// The removal race: replica B reads the origin for a key, replica A removes the key (or a matching pattern) from
/// Redis, and B writes its old value to L2 before A's message reaches it. The removal's tombstone must make B's write
/// a no-op, so no replica reads the old value from L2 afterwards. B's factory is held on a
/// <see cref="TaskCompletionSource{TResult}"/> so the interleaving is exact; A's Redis step is taken on its own (the
/// message is published afterwards) because on loopback the message would otherwise reach B before it writes.
/// </summary>
public sealed class RemovalRaceTests
{
    private static ValueTask<string> Read(OptimizedHybridCache cache, string key, Func<string> origin) =>
        cache.GetOrCreateAsync(key, origin, static (o, _) => ValueTask.FromResult(o()));

    private static async Task<(Task<string> Read, TaskCompletionSource<string> Release)> StartBlockedReadAsync(OptimizedHybridCache cache, string key)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = cache.GetOrCreateAsync(key, (entered, release), static async (s, _) =>
        {
            s.entered.TrySetResult();
            return await s.release.Task;
        }).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(5));
        return (read, release);
    }

    private static async Task<bool> ExistsInRedisAsync(Replicas replicas, string key)
    {
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        return await raw.ExistsAsync([replicas[0].DistributedTier!.RedisKey(key)]) == 1;
    }

    private static async Task<long> CountAsync(Replicas replicas, string command, string key)
    {
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        return (long)await raw.ExecuteAsync(command, (RedisKey)key);
    }

    private static async Task<string?> ScoreAsync(Replicas replicas, string set, string member)
    {
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        return (string?)await raw.ExecuteAsync("ZSCORE", (RedisKey)set, member);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task AValueReadBeforeAKeyRemovalIsNotWrittenBackToL2ByAReplicaThatHasNotHeardOfIt()
    {
        await using var replicas = await Replicas.StartAsync(2);
        var (a, b) = (replicas[0], replicas[1]);
        var (read, release) = await StartBlockedReadAsync(b, "product:1");

        // A's removal reaches Redis (tombstone + UNLINK) while B's factory is still reading the old value
        Assert.True((await a.DistributedTier!.RemoveKeysAsync(["product:1"], Now(), default)).Ok);
        release.SetResult("old");
        Assert.Equal("old", await read);
        await Replicas.WaitUntilAsync(() => b.DistributedTier!.StaleWritesRefused == 1, "the refused write");
        Assert.False(await ExistsInRedisAsync(replicas, "product:1"));

        // then A's message arrives: B's next read goes past L1 and L2 to the origin
        var before = b.RemoteInvalidationsApplied;
        await a.RemoveAsync("product:1");
        await Replicas.WaitForRemoteAsync(b, before);
        await Task.Delay(5); // a read in the removal's own millisecond is not written to L2 (it may have started before it)
        Assert.Equal("new", await Read(b, "product:1", () => "new"));
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "product:1").GetAwaiter().GetResult(), "the fresh write");
        Assert.Equal("new", await Read(a, "product:1", () => "origin called again"));
    }

    [Fact]
    public async Task AValueReadBeforeAPatternInvalidationIsNotWrittenBackToL2ButOtherKeysAre()
    {
        await using var replicas = await Replicas.StartAsync(2);
        var (a, b) = (replicas[0], replicas[1]);
        Assert.Equal("warm", await Read(b, "customer:0", () => "warm")); // B knows the (empty) pattern list
        var (productRead, releaseProduct) = await StartBlockedReadAsync(b, "product:7");
        var (customerRead, releaseCustomer) = await StartBlockedReadAsync(b, "customer:7");

        // A records the pattern and scans (nothing to unlink yet); B has not heard of it
        Assert.True(await a.DistributedTier!.RecordPatternAsync("product:*", Now(), default));
        releaseProduct.SetResult("old");
        releaseCustomer.SetResult("unaffected");
        Assert.Equal("old", await productRead);
        Assert.Equal("unaffected", await customerRead);
        await Replicas.WaitUntilAsync(() => b.DistributedTier!.StaleWritesRefused == 1, "the refused write");
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "customer:7").GetAwaiter().GetResult(), "the unaffected write");
        Assert.False(await ExistsInRedisAsync(replicas, "product:7"));

        var before = b.RemoteInvalidationsApplied;
        await a.InvalidateAsync("product:*");
        await Replicas.WaitForRemoteAsync(b, before);
        await Task.Delay(5);
        Assert.Equal("new", await Read(b, "product:7", () => "new"));
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "product:7").GetAwaiter().GetResult(), "the fresh write");
        Assert.Equal("new", await Read(a, "product:7", () => "origin called again"));
        Assert.Equal(1, b.DistributedTier!.StaleWritesRefused);
    }

    [Fact]
    public async Task AWriteStartedAfterTheRemovalIsAcceptedAndTombstonesExpireWithTheirWindow()
    {
        // a window long enough that the tombstones are still there when B has heard of both removals, even when a
        // Redis round trip on a busy machine takes a good part of a second; short enough to watch them expire
        await using var replicas = await Replicas.StartAsync(2, o => o.RemovalTombstoneWindow = TimeSpan.FromSeconds(3));
        var (a, b) = (replicas[0], replicas[1]);
        var before = b.RemoteInvalidationsApplied;
        await a.RemoveAsync("product:1");
        await a.InvalidateAsync("product:2*");
        await Replicas.WaitForRemoteAsync(b, before, 2); // reads in flight when B hears of a removal are not cached
        var structure = a.DistributedTier!.RemovalStructure(RedisDistributedTier.BucketOf("product:1"));
        var patterns = a.DistributedTier!.PatternStructure.Set;
        Assert.Equal(1, await CountAsync(replicas, "ZCARD", structure.TombstoneSet));
        Assert.Equal(1, await CountAsync(replicas, "ZCARD", patterns));

        await Task.Delay(5); // the next reads start strictly after the removals' millisecond
        Assert.Equal("fresh", await Read(b, "product:1", () => "fresh"));
        Assert.Equal("fresh", await Read(b, "product:20", () => "fresh"));
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "product:1").GetAwaiter().GetResult(), "the write of product:1");
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "product:20").GetAwaiter().GetResult(), "the write of product:20");

        // past the window Redis forgets the removals, and writes go on being accepted
        await Replicas.WaitUntilAsync(() => CountAsync(replicas, "EXISTS", structure.TombstoneSet).GetAwaiter().GetResult() == 0, "the key tombstones' expiry", 10);
        await Replicas.WaitUntilAsync(() => CountAsync(replicas, "EXISTS", patterns).GetAwaiter().GetResult() == 0, "the pattern tombstones' expiry", 10);
        await b.RemoveAsync("product:3"); // B's own removal: gone from B's L1, and from Redis
        await Task.Delay(5);
        Assert.Equal("later", await Read(b, "product:3", () => "later"));
        await Replicas.WaitUntilAsync(() => ExistsInRedisAsync(replicas, "product:3").GetAwaiter().GetResult(), "the write after the window");
        Assert.Equal(0, b.DistributedTier!.StaleWritesRefused);
    }

    [Fact]
    public async Task ATombstoneStructureStaysBoundedUnderTenThousandRemovalsAndItsOverflowStillRefusesOlderReads()
    {
        await using var replicas = await Replicas.StartAsync(2, o => o.MaximumRemovalTombstones = 16);
        var (a, b) = (replicas[0], replicas[1]);
        Assert.Equal("warm", await Read(b, "customer:0", () => "warm"));
        var (read, release) = await StartBlockedReadAsync(b, "product:9999");
        await Task.Delay(5);

        // A's Redis steps only (B has heard of none of them): 10,000 removals of other keys in batches of 500 and 40
        // patterns, then product:9999 itself and 100 more keys of its bucket, which fold its tombstone into the floor
        var tier = a.DistributedTier!;
        for (var i = 0; i < 10_000; i += 500)
        {
            Assert.True((await tier.RemoveKeysAsync(Enumerable.Range(i, 500).Select(k => "order:" + k).ToArray(), Now(), default)).Ok);
        }

        for (var i = 0; i < 40; i++)
        {
            Assert.True(await tier.RecordPatternAsync($"inventory:{i}:*", Now(), default));
        }

        Assert.True((await tier.RemoveKeysAsync(["product:9999"], Now(), default)).Ok);
        await Task.Delay(2);
        var bucket = RedisDistributedTier.BucketOf("product:9999");
        var sameBucket = Enumerable.Range(0, 100_000).Select(k => "order:x" + k).Where(k => RedisDistributedTier.BucketOf(k) == bucket).Take(100).ToArray();
        Assert.True((await tier.RemoveKeysAsync(sameBucket, Now(), default)).Ok);

        var structure = tier.RemovalStructure(bucket);
        Assert.InRange(await CountAsync(replicas, "ZCARD", structure.TombstoneSet), 1, 16);
        Assert.InRange(await CountAsync(replicas, "ZCARD", tier.PatternStructure.Set), 1, 16);
        for (var other = 0; other < RedisDistributedTier.Buckets; other++)
        {
            Assert.InRange(await CountAsync(replicas, "ZCARD", tier.RemovalStructure(other).TombstoneSet), 0, 16); // every bucket bounded
        }

        Assert.Null(await ScoreAsync(replicas, structure.TombstoneSet, "product:9999")); // folded into the floor
        Assert.Equal(1, await CountAsync(replicas, "EXISTS", structure.Floor));

        release.SetResult("old");
        Assert.Equal("old", await read);
        await Replicas.WaitUntilAsync(() => b.DistributedTier!.StaleWritesRefused == 1, "the refused write");
        Assert.False(await ExistsInRedisAsync(replicas, "product:9999"));
    }

    [Fact]
    public async Task AValueReadBeforeAnOverwriteIsNotWrittenOverItInL2AndALaterOverwriteStillLands()
    {
        await using var replicas = await Replicas.StartAsync(3);
        var (a, b, c) = (replicas[0], replicas[1], replicas[2]);
        var (read, release) = await StartBlockedReadAsync(b, "product:5");
        await Task.Delay(5); // A's SetAsync starts strictly after B's read

        // A's SetAsync reaches Redis (the message is published afterwards, as in SetAsync) while B's factory is still
        // reading the old value
        await a.DistributedTier!.SetAsync(
            "product:5", "new"u8.ToArray(), 0, TimeSpan.FromMinutes(5), false, [], DateTimeOffset.UtcNow, HybridCacheEntryFlags.None, overwrite: true, default);
        var redisKey = a.DistributedTier.RedisKey("product:5");
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        var written = await raw.GetAsync(redisKey);
        Assert.NotNull(written);

        release.SetResult("old");
        Assert.Equal("old", await read);
        await Replicas.WaitUntilAsync(() => b.DistributedTier!.StaleWritesRefused == 1, "the refused write");
        Assert.Equal(written, await raw.GetAsync(redisKey));
        Assert.Equal("new", await Read(c, "product:5", () => "origin called"));

        // a later SetAsync (the whole public path) is newer than A's fence and replaces the value
        await Task.Delay(5);
        var before = c.RemoteInvalidationsApplied;
        await a.SetAsync("product:5", "newer");
        await Replicas.WaitForRemoteAsync(c, before);
        Assert.Equal("newer", await Read(c, "product:5", () => "origin called"));
        Assert.Equal(1, b.DistributedTier!.StaleWritesRefused);
    }
}
