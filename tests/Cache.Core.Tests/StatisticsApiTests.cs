namespace OptimizedCache.Cache.Core.Tests;

/// <summary>GetHitRate, GetMemoryUsage, GetPerformanceStats and the bounded top keys.</summary>
public sealed class StatisticsApiTests
{
    [Fact]
    public async Task HitRateAndPerDataTypeCountsFollowTheTraffic()
    {
        using var test = TestCache.Create();
        for (var i = 0; i < 4; i++)
        {
            await test.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("p"));
        }

        await test.Cache.GetOrCreateAsync("inventory:1", _ => ValueTask.FromResult(1));

        var stats = test.Cache.GetPerformanceStats();
        Assert.Equal(0.6, test.Cache.GetHitRate(), 3);
        Assert.Equal((3, 2), (stats.L1Hits, stats.L1Misses));
        Assert.Equal(2, stats.FactoryCalls);
        Assert.Equal(0.75, stats.ByDataType["product"].HitRate, 3);
        Assert.Equal(0, stats.ByDataType["inventory"].Hits);
        Assert.True(stats.Operations["get/origin"].Count >= 2);
    }

    [Fact]
    public async Task MemoryUsageCountsEntriesAndTheirEstimatedBytes()
    {
        using var test = TestCache.Create();
        await test.Cache.SetAsync("a", new string('x', 10_000));
        await test.Cache.SetAsync("b", new byte[5_000]);

        var usage = test.Cache.GetMemoryUsage();

        Assert.Equal(2, usage.Entries);
        Assert.InRange(usage.UsedBytes, 15_000, 16_000);
        Assert.Equal(64L << 20, usage.BudgetBytes);
    }

    [Fact]
    public async Task TopKeysListTheBusiestKeysWithTheirHitRatesWithinAFixedCapacity()
    {
        using var test = TestCache.Create(o => o.TopKeysCapacity = 5);
        // L1 hits reach the statistics through the lossy read buffer and then sampled (one in
        // OptimizedHybridCache.TopKeysHitSampling, weighted), so the hot key gets enough hits for the estimate to be
        // close, and the buffer is replayed (GetTopKeys does that) before a tight loop can overwrite it
        const int HotReads = 2_000;
        for (var i = 0; i < HotReads; i++)
        {
            await test.Cache.GetOrCreateAsync("product:hot", _ => ValueTask.FromResult("h"));
            if (i % 16 == 0)
            {
                _ = test.Cache.GetTopKeys(1);
            }
        }

        for (var i = 0; i < 100; i++)
        {
            await test.Cache.GetOrCreateAsync($"product:cold-{i}", _ => ValueTask.FromResult("c"));
        }

        var top = test.Cache.GetTopKeys(10);

        Assert.True(top.Count <= 5);
        Assert.Equal("product:hot", top[0].Key);
        Assert.InRange(top[0].Requests, HotReads / 2, HotReads * 2);
        Assert.InRange(top[0].HitRate, 0.9, 1.0);
    }
}
