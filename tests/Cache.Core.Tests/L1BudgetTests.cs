using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>L1 stays within its byte budget, which follows available memory and shrinks under pressure.</summary>
public sealed class L1BudgetTests
{
    [Fact]
    public async Task L1StaysWithinAFixedByteBudget()
    {
        using var test = TestCache.Create(o => o.L1MaximumBytes = 256 * 1024);
        var value = new string('x', 1000);

        for (var i = 0; i < 2000; i++)
        {
            await test.Cache.SetAsync($"product:{i}", value);
        }

        var usage = test.Cache.GetMemoryUsage();
        Assert.InRange(usage.UsedBytes, 1, 256 * 1024);
        Assert.True(usage.Entries < 2000);
        Assert.True(test.Cache.GetPerformanceStats().Evictions["capacity"] > 0);
    }

    [Fact]
    public void TheBudgetIsAFractionOfAvailableMemoryWhenNoFixedSizeIsSet()
    {
        using var test = TestCache.Create(
            o => { o.L1MaximumBytes = null; o.L1MemoryFraction = 0.25; },
            memory: () => new MemorySnapshot(400L << 20, 10L << 20, 360L << 20));

        var usage = test.Cache.GetMemoryUsage();

        Assert.Equal(100L << 20, usage.BudgetBytes);
        Assert.Equal(400L << 20, usage.TotalAvailableMemoryBytes);
        Assert.False(usage.UnderMemoryPressure);
    }

    [Fact]
    public async Task MemoryPressureShrinksTheBudgetAndEvictsThenItRecovers()
    {
        var load = 10L << 20;
        using var test = TestCache.Create(
            o => { o.L1MaximumBytes = 1L << 20; o.L1PressureShrinkFactor = 0.25; },
            memory: () => new MemorySnapshot(1L << 30, Volatile.Read(ref load), 100L << 20));
        for (var i = 0; i < 900; i++)
        {
            await test.Cache.SetAsync($"k{i}", new string('x', 800));
        }

        var before = test.Cache.GetMemoryUsage();
        Volatile.Write(ref load, 95L << 20);
        test.Cache.CheckMemory();
        var during = test.Cache.GetMemoryUsage();
        Volatile.Write(ref load, 10L << 20);
        test.Time.Advance(TimeSpan.FromSeconds(31)); // the maintenance timer re-reads memory
        var after = test.Cache.GetMemoryUsage();

        Assert.True(before.UsedBytes > 256 * 1024);
        Assert.True(during.UnderMemoryPressure);
        Assert.Equal(256 * 1024, during.BudgetBytes);
        Assert.InRange(during.UsedBytes, 0, 256 * 1024);
        Assert.True(test.Cache.GetPerformanceStats().Evictions["memory_pressure"] > 0);
        Assert.False(after.UnderMemoryPressure);
        Assert.Equal(1L << 20, after.BudgetBytes);
    }

    [Fact]
    public async Task TheSweepRemovesEntriesPastTheirStaleWindow()
    {
        using var test = TestCache.Create(o => o.FailSafeMaxStaleness = TimeSpan.FromMinutes(1));
        await test.Cache.SetAsync("k", "v", new() { Expiration = TimeSpan.FromSeconds(10) });

        test.Time.Advance(TimeSpan.FromSeconds(31));
        var keptForFailSafe = test.Cache.GetMemoryUsage().Entries;
        test.Time.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(1, keptForFailSafe);
        Assert.Equal(0, test.Cache.GetMemoryUsage().Entries);
        Assert.Equal(1, test.Cache.GetPerformanceStats().Evictions["expired"]);
    }

    [Fact]
    public async Task TagInvalidationTimesStayBoundedWithoutRevivingInvalidatedEntries()
    {
        using var test = TestCache.Create(o => o.MaximumTrackedTags = 16);
        await test.Cache.SetAsync("k", "v", tags: ["tag-0"]);
        test.Time.Advance(TimeSpan.FromMilliseconds(1));

        for (var i = 0; i < 40; i++)
        {
            await test.Cache.RemoveByTagAsync($"tag-{i}");
            test.Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal("miss", await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("miss"), tags: ["tag-0"]));
    }
}
