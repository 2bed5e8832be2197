namespace OptimizedCache.Cache.Core.Tests;

/// <summary>When the factory fails, an expired value younger than the maximum staleness is served instead.</summary>
public sealed class FailSafeTests
{
    private static readonly Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryOptions TenSeconds = new() { Expiration = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task ServesTheExpiredValueWhenTheFactoryFailsWithinTheStalenessWindow()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.FromMinutes(5));
        await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("good"), TenSeconds);
        test.Time.Advance(TimeSpan.FromMinutes(2));

        var value = await test.Cache.GetOrCreateAsync<string>("product:1", _ => throw new InvalidOperationException("origin down"), TenSeconds);

        Assert.Equal("good", value);
        var stats = test.Cache.GetPerformanceStats();
        Assert.Equal(1, stats.StaleServed);
        Assert.Equal(1, stats.FactoryErrors);
    }

    [Fact]
    public async Task ThrowsOnceTheValueIsOlderThanTheStalenessWindow()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.FromMinutes(1));
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("good"), TenSeconds);
        test.Time.Advance(TimeSpan.FromMinutes(2));

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => test.Cache.GetOrCreateAsync<string>("k", _ => throw new InvalidOperationException("origin down"), TenSeconds).AsTask());
    }

    [Fact]
    public async Task AnExpiredValueIsNotServedWhenTheFactorySucceeds()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.FromMinutes(5));
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("old"), TenSeconds);
        test.Time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal("new", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("new"), TenSeconds));
    }

    [Fact]
    public async Task AValueInvalidatedByATagIsNeverServedStale()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.FromMinutes(5));
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("old"), TenSeconds, ["t"]);
        test.Time.Advance(TimeSpan.FromSeconds(11));
        await test.Cache.RemoveByTagAsync("t");

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => test.Cache.GetOrCreateAsync<string>("k", _ => throw new InvalidOperationException("origin down"), TenSeconds, ["t"]).AsTask());
    }

    [Fact]
    public async Task MutableStaleValuesAreStillFreshCopies()
    {
        using var test = TestCache.Create();
        var first = await test.Cache.GetOrCreateAsync("m", _ => ValueTask.FromResult(new MutableProduct { Id = 3 }), TenSeconds);
        test.Time.Advance(TimeSpan.FromSeconds(11));

        var stale = await test.Cache.GetOrCreateAsync<MutableProduct>("m", _ => throw new InvalidOperationException(), TenSeconds);

        Assert.Equal(3, stale.Id);
        Assert.NotSame(first, stale);
    }
}
