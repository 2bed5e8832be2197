namespace OptimizedCache.Cache.Core.Tests;

/// <summary>An L1 hit of an immutable type through GetOrCreateAsync allocates nothing (not a timing test).</summary>
public sealed class L1HitAllocationTests
{
    [Fact]
    public async Task AnL1HitOfAnImmutableTypeAllocatesNoBytes()
    {
        using var test = TestCache.Create();
        var keys = Enumerable.Range(0, 64).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            await test.Cache.GetOrCreateAsync(key, key, static (k, _) => ValueTask.FromResult(new ImmutableProduct(1, k)));
        }

        // warm up: JIT, read buffer drains, tiered compilation of the hit path
        for (var i = 0; i < 10_000; i++)
        {
            Hit(test.Cache, keys[i & 63]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Hit(test.Cache, keys[i & 63]);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    private static void Hit(OptimizedHybridCache cache, string key)
    {
        var pending = cache.GetOrCreateAsync(key, key, static (k, _) => ValueTask.FromResult(new ImmutableProduct(0, k)));
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("expected a synchronous L1 hit");
        }
    }
}
