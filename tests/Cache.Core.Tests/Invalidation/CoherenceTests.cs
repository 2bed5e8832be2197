using System.Text;
using OptimizedCache.Cache.Core.Internal.Invalidation;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>Each invalidation kind made on one replica reaches the L1 of the others through Redis pub/sub.</summary>
public sealed class CoherenceTests
{
    private static ValueTask<string> Read(OptimizedHybridCache cache, string key, Func<string> origin, string[]? tags = null) =>
        cache.GetOrCreateAsync(key, origin, static (o, _) => ValueTask.FromResult(o()), tags: tags);

    [Fact]
    public async Task AKeyRemovedOnOneReplicaIsReadFreshOnTheOthers()
    {
        await using var replicas = await Replicas.StartAsync(3);
        var version = "v1";
        foreach (var cache in replicas.Caches)
        {
            Assert.Equal("v1", await Read(cache, "product:1", () => version));
        }

        version = "v2";
        var before = (replicas[1].RemoteInvalidationsApplied, replicas[2].RemoteInvalidationsApplied);
        await replicas[0].RemoveAsync("product:1");
        await Replicas.WaitForRemoteAsync(replicas[1], before.Item1);
        await Replicas.WaitForRemoteAsync(replicas[2], before.Item2);

        Assert.All(await Task.WhenAll(replicas.Caches.Select(c => Read(c, "product:1", () => version).AsTask())), v => Assert.Equal("v2", v));
    }

    [Fact]
    public async Task AValueSetOnOneReplicaReplacesTheCopyTheOthersHeldInL1()
    {
        await using var replicas = await Replicas.StartAsync(2);
        Assert.Equal("v1", await Read(replicas[1], "product:7", () => "v1"));
        Assert.True(replicas[1].L1.TryPeek("product:7", out _));

        // the factory's L2 write is not awaited by the read: let it land first (a late one is a separate, known case)
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        var stored = false;
        for (var i = 0; i < 200 && !stored; i++)
        {
            stored = await raw.ExistsAsync([replicas[0].DistributedTier!.RedisKey("product:7")]) == 1;
            await Task.Delay(10);
        }

        Assert.True(stored, "the first replica's value never reached Redis");

        var before = replicas[1].RemoteInvalidationsApplied;
        await replicas[0].SetAsync("product:7", "v2");
        await Replicas.WaitForRemoteAsync(replicas[1], before);

        // the other replica's next read comes from L2, where the new value is, without calling its origin
        Assert.Equal("v2", await Read(replicas[1], "product:7", () => "origin called"));
    }

    [Fact]
    public async Task ManyKeysRemovedAtOnceReachTheOtherReplicasInOneBatch()
    {
        await using var replicas = await Replicas.StartAsync(2);
        var keys = Enumerable.Range(0, 50).Select(i => "product:" + i).ToArray();
        foreach (var key in keys)
        {
            await Read(replicas[1], key, () => "old");
        }

        var before = replicas[1].RemoteInvalidationsApplied;
        await replicas[0].RemoveAsync(keys);
        await Replicas.WaitForRemoteAsync(replicas[1], before);

        Assert.All(keys, k => Assert.False(replicas[1].L1.TryPeek(k, out _)));
    }

    [Fact]
    public async Task ATagInvalidatedOnOneReplicaInvalidatesItsEntriesOnTheOthersOnly()
    {
        await using var replicas = await Replicas.StartAsync(2);
        var version = "v1";
        await Read(replicas[1], "product:1", () => version, ["catalog"]);
        await Read(replicas[1], "customer:1", () => "kept", ["people"]);

        version = "v2";
        var before = replicas[1].RemoteInvalidationsApplied;
        await replicas[0].RemoveByTagAsync("catalog");
        await Replicas.WaitForRemoteAsync(replicas[1], before);

        Assert.Equal("v2", await Read(replicas[1], "product:1", () => version, ["catalog"]));
        Assert.Equal("kept", await Read(replicas[1], "customer:1", () => "origin called", ["people"]));
    }

    [Fact]
    public async Task APatternInvalidatedOnOneReplicaRemovesMatchingEntriesEverywhere()
    {
        await using var replicas = await Replicas.StartAsync(2);
        foreach (var cache in replicas.Caches)
        {
            await Read(cache, "product:1", () => "old");
            await Read(cache, "product:2", () => "old");
            await Read(cache, "customer:1", () => "kept");
        }

        var before = replicas[1].RemoteInvalidationsApplied;
        var result = await replicas[0].InvalidateAsync("product:*");
        await Replicas.WaitForRemoteAsync(replicas[1], before);

        Assert.Equal(2, result.L1Removed);
        foreach (var cache in replicas.Caches)
        {
            Assert.Equal("new", await Read(cache, "product:1", () => "new"));
            Assert.Equal("kept", await Read(cache, "customer:1", () => "origin called"));
        }
    }

    [Fact]
    public async Task ClearOnOneReplicaEmptiesEveryL1()
    {
        await using var replicas = await Replicas.StartAsync(3);
        foreach (var cache in replicas.Caches)
        {
            await Read(cache, "product:1", () => "old");
            await Read(cache, "customer:1", () => "old", ["people"]);
        }

        var before = replicas.Caches.Select(c => c.RemoteInvalidationsApplied).ToArray();
        await replicas[0].ClearAsync();
        for (var i = 1; i < 3; i++)
        {
            await Replicas.WaitForRemoteAsync(replicas[i], before[i]);
        }

        foreach (var cache in replicas.Caches)
        {
            Assert.Equal("new", await Read(cache, "product:1", () => "new"));
            Assert.Equal("new", await Read(cache, "customer:1", () => "new", ["people"]));
        }
    }

    [Fact]
    public async Task ADependencyChangeInvalidatesWhatTheRulesDeriveFromIt()
    {
        await using var replicas = await Replicas.StartAsync(2, o => o.DependencyRules["product"] =
            ["catalog:product:{id}", "inventory:{id}", "recommendations:product:{id}"]);
        await Read(replicas[1], "product:42", () => "old", ["catalog:product:42"]);
        await Read(replicas[1], "inventory:42", () => "old", ["inventory:42"]);
        await Read(replicas[1], "recommendations:7", () => "old", ["recommendations:product:42", "recommendations:product:9"]);
        await Read(replicas[1], "inventory:43", () => "kept", ["inventory:43"]);

        var before = replicas[1].RemoteInvalidationsApplied;
        var tags = await replicas[0].InvalidateDependentsAsync("product", "42");
        await Replicas.WaitForRemoteAsync(replicas[1], before);

        Assert.Equal(["catalog:product:42", "inventory:42", "recommendations:product:42"], tags);
        Assert.Equal("new", await Read(replicas[1], "product:42", () => "new", ["catalog:product:42"]));
        Assert.Equal("new", await Read(replicas[1], "inventory:42", () => "new", ["inventory:42"]));
        Assert.Equal("new", await Read(replicas[1], "recommendations:7", () => "new", ["recommendations:product:42", "recommendations:product:9"]));
        Assert.Equal("kept", await Read(replicas[1], "inventory:43", () => "origin called", ["inventory:43"]));
    }

    [Fact]
    public async Task AReplicaIgnoresItsOwnMessagesAndCountsMalformedOnes()
    {
        await using var replicas = await Replicas.StartAsync(2);
        await using var raw = await RawRedis.ConnectAsync(replicas.Server.ConnectionString);
        await Read(replicas[1], "product:1", () => "kept");

        await raw.PublishAsync("oc:invalidation", Encoding.UTF8.GetBytes("not a message"));
        await raw.PublishAsync("oc:invalidation", new byte[InvalidationMessage.MaximumBytes + 1]);
        // a well-formed removal of product:1 that claims to come from replica 1 itself
        var own = InvalidationMessage.Encode(InvalidationKind.Key, replicas[1].InstanceId, DateTime.UtcNow.Ticks, ["product:1"])[0];
        await raw.PublishAsync("oc:invalidation", own);
        await Replicas.WaitUntilAsync(() => replicas[1].MalformedInvalidationMessages == 2, "counting two malformed messages");
        // a later message from another sender proves the earlier ones were processed (handlers run in order)
        await replicas[0].RemoveAsync("product:2");
        await Replicas.WaitUntilAsync(() => replicas[1].RemoteInvalidationsApplied == 1, "the removal of product:2");

        Assert.Equal("kept", await Read(replicas[1], "product:1", () => "origin called"));
        Assert.Equal(2, replicas[0].MalformedInvalidationMessages);
    }

    [Fact]
    public async Task PatternInvalidationUnlinksMatchingRedisKeysOnlyUnderItsOwnPrefix()
    {
        await using var server = await RedisServer.StartAsync();
        await using var raw = await RawRedis.ConnectAsync(server.ConnectionString);
        // a prefix full of glob characters must be matched literally
        await using var replicas = await Replicas.StartAsync(1, o => o.KeyPrefix = "t*[x]", server);
        var tier = replicas[0].DistributedTier!;
        // decoys: another prefix that the glob would match were it not escaped, the tag-time namespace, a hash tag that is not a bucket
        string[] decoys = [tier.RedisKey("customer:1"), "tax:{00}:product:1", "tx:{00}:product:1", "t*[x]:tag:product:1", "t*[x]:{000}:product:1"];
        foreach (var key in new[] { tier.RedisKey("product:1"), tier.RedisKey("product:2") }.Concat(decoys))
        {
            await raw.SetAsync(key, "v"u8.ToArray());
        }

        for (var i = 0; i < 1200; i++)
        {
            await raw.SetAsync(tier.RedisKey("product:bulk" + i), "v"u8.ToArray());
        }

        var result = await replicas[0].InvalidateAsync("product:*");

        Assert.Equal(1202, result.L2Removed);
        Assert.Equal(0, await raw.ExistsAsync([tier.RedisKey("product:1"), tier.RedisKey("product:2"), tier.RedisKey("product:bulk1199")]));
        Assert.Equal(decoys.Length, await raw.ExistsAsync(decoys));
    }
}
