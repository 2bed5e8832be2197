using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>The HybridCache contract, as its documentation states it, running L1 only.</summary>
public sealed class OptimizedHybridCacheContractTests
{
    private static readonly HybridCacheEntryOptions OneMinute = new() { Expiration = TimeSpan.FromMinutes(1) };

    [Fact]
    public async Task CallsTheFactoryOnceAndThenServesTheCachedValue()
    {
        using var test = TestCache.Create();
        var calls = 0;

        var first = await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult($"value {++calls}"));
        var second = await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult($"value {++calls}"));

        Assert.Equal("value 1", first);
        Assert.Equal("value 1", second);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task PassesTheStateToTheFactory()
    {
        using var test = TestCache.Create();

        var value = await test.Cache.GetOrCreateAsync("product:2", 42, static (state, _) => ValueTask.FromResult(state * 2));

        Assert.Equal(84, value);
    }

    [Fact]
    public async Task SetAsyncOverwritesSoThatTheFactoryIsNotCalled()
    {
        using var test = TestCache.Create();
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("old"));

        await test.Cache.SetAsync("k", "new");
        var value = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory"));

        Assert.Equal("new", value);
    }

    [Fact]
    public async Task RemoveAsyncMakesTheNextReadCallTheFactory()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("k", "cached");

        await test.Cache.RemoveAsync("k");

        Assert.Equal("fresh", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("fresh")));
    }

    [Fact]
    public async Task RemoveAsyncOfManyKeysRemovesEachAndTreatsNullAsEmpty()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("a", "1");
        await test.Cache.SetAsync("b", "2");
        await test.Cache.SetAsync("c", "3");

        await test.Cache.RemoveAsync(["a", "b"]);
        await test.Cache.RemoveAsync((IEnumerable<string>)null!);

        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("a", _ => ValueTask.FromResult("miss")));
        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("b", _ => ValueTask.FromResult("miss")));
        Assert.Equal("3", await test.Cache.GetOrCreateAsync("c", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task RemoveByTagInvalidatesOnlyTheEntriesCarryingTheTag()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("product:1", "p1", tags: ["catalog", "product"]);
        await test.Cache.SetAsync("product:2", "p2", tags: ["product"]);
        await test.Cache.SetAsync("customer:1", "c1", tags: ["customer"]);
        test.Time.Advance(TimeSpan.FromMilliseconds(1));

        await test.Cache.RemoveByTagAsync("catalog");

        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("miss")));
        Assert.Equal("p2", await test.Cache.GetOrCreateAsync("product:2", _ => ValueTask.FromResult("miss")));
        Assert.Equal("c1", await test.Cache.GetOrCreateAsync("customer:1", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task AnEntryWrittenAfterItsTagWasInvalidatedIsValid()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("k", "old", tags: ["t"]);
        await test.Cache.RemoveByTagAsync("t");
        test.Time.Advance(TimeSpan.FromMilliseconds(1));

        await test.Cache.SetAsync("k", "new", tags: ["t"]);

        Assert.Equal("new", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("miss"), tags: ["t"]));
    }

    [Fact]
    public async Task RemoveByTagWildcardInvalidatesEveryEntry()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("a", "1", tags: ["x"]);
        await test.Cache.SetAsync("b", "2");

        await test.Cache.RemoveByTagAsync("*");

        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("a", _ => ValueTask.FromResult("miss")));
        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("b", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task RemoveByTagOfManyTagsTreatsNullAsEmpty()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("a", "1", tags: ["x"]);
        await test.Cache.SetAsync("b", "2", tags: ["y"]);
        test.Time.Advance(TimeSpan.FromMilliseconds(1));

        await test.Cache.RemoveByTagAsync(["x", "y"]);
        await test.Cache.RemoveByTagAsync((IEnumerable<string>)null!);

        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("a", _ => ValueTask.FromResult("miss")));
        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("b", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task AnEntryExpiresAfterItsExpiration()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.Zero);
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), OneMinute);

        test.Time.Advance(TimeSpan.FromSeconds(59));
        var before = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), OneMinute);
        test.Time.Advance(TimeSpan.FromSeconds(2));
        var after = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), OneMinute);

        Assert.Equal("v1", before);
        Assert.Equal("v2", after);
    }

    [Fact]
    public async Task LocalCacheExpirationShorterThanExpirationDecidesTheL1Lifetime()
    {
        using var test = TestCache.Create();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), LocalCacheExpiration = TimeSpan.FromMinutes(1) };
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), options);

        test.Time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("v2", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), options));
    }

    [Fact]
    public async Task LocalCacheExpirationNeverOutlivesExpiration()
    {
        using var test = TestCache.Create();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1), LocalCacheExpiration = TimeSpan.FromMinutes(10) };
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), options);

        test.Time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("v2", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), options));
    }

    [Fact]
    public async Task DefaultEntryOptionsApplyWhenTheCallGivesNone()
    {
        using var test = TestCache.Create(o => o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(10) });
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"));

        test.Time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal("v2", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2")));
    }

    [Fact]
    public async Task WithoutAnyExpirationEntriesLiveFiveMinutes()
    {
        using var test = TestCache.Create();
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"));

        test.Time.Advance(TimeSpan.FromMinutes(4.9));
        var before = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"));
        test.Time.Advance(TimeSpan.FromMinutes(0.2));
        var after = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"));

        Assert.Equal(("v1", "v2"), (before, after));
    }

    [Fact]
    public async Task DisableLocalCacheReadCallsTheFactoryEveryTimeButStillWrites()
    {
        using var test = TestCache.Create();
        var noRead = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead };
        var calls = 0;

        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), noRead);
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), noRead);
        var normal = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls));

        Assert.Equal(2, calls);
        Assert.Equal(2, normal);
    }

    [Fact]
    public async Task DisableLocalCacheWriteLeavesL1Untouched()
    {
        using var test = TestCache.Create();
        var noWrite = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite };

        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), noWrite);
        await test.Cache.SetAsync("s", "v", noWrite);

        Assert.Equal("v2", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2")));
        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("s", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task DisableLocalCacheIsBothReadAndWrite()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("k", "cached");
        var none = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache };

        var value = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory"), none);

        Assert.Equal("factory", value);
        Assert.Equal("cached", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("x")));
    }

    [Fact]
    public async Task DisableUnderlyingDataReturnsDefaultOnAMissAndTheCachedValueOnAHit()
    {
        using var test = TestCache.Create();
        var cacheOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        var called = false;

        var missing = await test.Cache.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult("factory"); }, cacheOnly);
        await test.Cache.SetAsync("k", "cached");
        var present = await test.Cache.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult("factory"); }, cacheOnly);

        Assert.Null(missing);
        Assert.Equal("cached", present);
        Assert.False(called);
    }

    [Theory]
    [InlineData(HybridCacheEntryFlags.DisableDistributedCacheRead)]
    [InlineData(HybridCacheEntryFlags.DisableDistributedCacheWrite)]
    [InlineData(HybridCacheEntryFlags.DisableDistributedCache)]
    [InlineData(HybridCacheEntryFlags.DisableCompression)]
    public async Task DistributedAndCompressionFlagsLeaveL1BehaviourUnchangedWithoutL2(HybridCacheEntryFlags flags)
    {
        using var test = TestCache.Create();
        var options = new HybridCacheEntryOptions { Flags = flags };
        var calls = 0;

        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), options);
        var second = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), options);

        Assert.Equal(1, second);
        Assert.False(test.Cache.HasDistributedTier);
    }

    [Fact]
    public async Task AnImmutableTypeIsReturnedAsTheSameInstance()
    {
        using var test = TestCache.Create();

        var first = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new ImmutableProduct(1, "a")));
        var second = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new ImmutableProduct(2, "b")));

        Assert.Same(first, second);
    }

    [Fact]
    public async Task AMutableTypeIsReturnedAsAFreshCopyOnEveryHit()
    {
        using var test = TestCache.Create();
        var original = new MutableProduct { Id = 1, Name = "a" };

        var first = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(original));
        first.Name = "changed by the caller";
        var second = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new MutableProduct()));
        var third = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new MutableProduct()));

        Assert.Equal("a", second.Name);
        Assert.NotSame(second, third);
        Assert.NotSame(original, second);
    }

    [Fact]
    public async Task ARecordWithoutTheImmutableAttributeCountsAsMutable()
    {
        using var test = TestCache.Create();

        var first = await test.Cache.GetOrCreateAsync("r", _ => ValueTask.FromResult(new ProductRecord(1, "a")));
        var second = await test.Cache.GetOrCreateAsync("r", _ => ValueTask.FromResult(new ProductRecord(2, "b")));

        Assert.Equal(first, second);
        Assert.NotSame(first, second);
    }

    [Fact]
    public async Task AByteArrayIsCopiedInAndOut()
    {
        using var test = TestCache.Create();
        var bytes = new byte[] { 1, 2, 3 };
        await test.Cache.SetAsync("b", bytes);
        bytes[0] = 9;

        var first = await test.Cache.GetOrCreateAsync("b", _ => ValueTask.FromResult(Array.Empty<byte>()));
        first[1] = 9;
        var second = await test.Cache.GetOrCreateAsync("b", _ => ValueTask.FromResult(Array.Empty<byte>()));

        Assert.Equal(new byte[] { 1, 2, 3 }, second);
    }

    [Fact]
    public async Task ReadingAKeyAsAnotherTypeIsAMiss()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("k", "text");

        var number = await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(7));

        Assert.Equal(7, number);
    }

    [Fact]
    public async Task ARegisteredSerializerWinsOverFactoriesAndTheLastFactoryWinsOverEarlierOnes()
    {
        var earlier = new PrefixSerializerFactory("earlier:");
        var later = new PrefixSerializerFactory("later:");
        using (var test = TestCache.Create(build: b => b.AddSerializerFactory(earlier).AddSerializerFactory(later)))
        {
            await test.Cache.SetAsync("p", new MutableProduct { Id = 1, Name = "x" });
            var read = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new MutableProduct()));
            Assert.Equal("later:x", read.Name);
            Assert.Equal(0, earlier.Serializer.Serializations);
        }

        var direct = new PrefixSerializer("direct:");
        using (var test = TestCache.Create(build: b => b.AddSerializerFactory(later).AddSerializer(direct)))
        {
            await test.Cache.SetAsync("p", new MutableProduct { Id = 1, Name = "x" });
            var read = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new MutableProduct()));
            Assert.Equal("direct:x", read.Name);
        }
    }

    [Fact]
    public async Task TypesWithoutARegisteredSerializerUseSystemTextJson()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("p", new MutableProduct { Id = 5, Name = "json" });

        var read = await test.Cache.GetOrCreateAsync("p", _ => ValueTask.FromResult(new MutableProduct()));

        Assert.Equal((5, "json"), (read.Id, read.Name));
    }

    [Fact]
    public async Task AValueOverThePayloadLimitIsReturnedButNotCached()
    {
        using var test = TestCache.Create(o => o.MaximumPayloadBytes = 100);
        var big = new string('x', 101);

        var first = await test.Cache.GetOrCreateAsync("big", _ => ValueTask.FromResult(big));
        var second = await test.Cache.GetOrCreateAsync("big", _ => ValueTask.FromResult("again"));
        var json = await test.Cache.GetOrCreateAsync("bigjson", _ => ValueTask.FromResult(new MutableProduct { Name = big }));
        var fits = await test.Cache.GetOrCreateAsync("small", _ => ValueTask.FromResult(new string('y', 100)));

        Assert.Same(big, first);
        Assert.Equal("again", second);
        Assert.Equal(big, json.Name);
        Assert.Equal(2, test.Cache.GetPerformanceStats().PayloadsTooLarge);
        Assert.Equal(fits, await test.Cache.GetOrCreateAsync("small", _ => ValueTask.FromResult("miss")));
    }

    [Fact]
    public async Task AValueThatFailsToSerializeIsReturnedButNotCached()
    {
        using var test = TestCache.Create(build: b => b.AddSerializerFactory(new FailingSerializerFactory()));
        var value = new Unserializable { Value = 3 };

        var first = await test.Cache.GetOrCreateAsync("u", _ => ValueTask.FromResult(value));
        var second = await test.Cache.GetOrCreateAsync("u", _ => ValueTask.FromResult(new Unserializable { Value = 4 }));

        Assert.Same(value, first);
        Assert.Equal(4, second.Value);
        Assert.Equal(2, test.Cache.GetPerformanceStats().SerializationFailures);
    }
}
