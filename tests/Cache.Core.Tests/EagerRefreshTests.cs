namespace OptimizedCache.Cache.Core.Tests;

/// <summary>A read late in an entry's life refreshes it in the background, once.</summary>
public sealed class EagerRefreshTests
{
    private static readonly Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryOptions HundredSeconds = new() { Expiration = TimeSpan.FromSeconds(100) };

    [Fact]
    public async Task AReadInTheLastPartOfTheLifeRefreshesInTheBackgroundOnce()
    {
        using var test = TestCache.Create(o => o.EagerRefreshThreshold = 0.8);
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, ValueTask<string>> factory = async _ =>
        {
            var call = Interlocked.Increment(ref calls);
            if (call > 1)
            {
                await release.Task;
            }

            return $"v{call}";
        };
        await test.Cache.GetOrCreateAsync("k", factory, HundredSeconds);

        test.Time.Advance(TimeSpan.FromSeconds(70));
        var early = await test.Cache.GetOrCreateAsync("k", factory, HundredSeconds);
        test.Time.Advance(TimeSpan.FromSeconds(15));
        var late = await test.Cache.GetOrCreateAsync("k", factory, HundredSeconds);
        var lateAgain = await test.Cache.GetOrCreateAsync("k", factory, HundredSeconds);
        await StampedeProtectionTests.WaitUntilAsync(() => Volatile.Read(ref calls) == 2);
        release.SetResult();
        await StampedeProtectionTests.WaitUntilAsync(() => test.Cache.FlightCount == 0);
        test.Time.Advance(TimeSpan.FromSeconds(20)); // past the original expiry
        var refreshed = await test.Cache.GetOrCreateAsync("k", factory, HundredSeconds);

        Assert.Equal(("v1", "v1", "v1"), (early, late, lateAgain));
        Assert.Equal("v2", refreshed);
        Assert.Equal(2, calls);
        Assert.Equal(1, test.Cache.GetPerformanceStats().EagerRefreshes);
    }

    [Fact]
    public async Task AThresholdOfOneTurnsEagerRefreshOff()
    {
        using var test = TestCache.Create(o => o.EagerRefreshThreshold = 1);
        var calls = 0;
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), HundredSeconds);

        test.Time.Advance(TimeSpan.FromSeconds(99));
        await test.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls), HundredSeconds);
        await Task.Delay(50);

        Assert.Equal(1, calls);
        Assert.Equal(0, test.Cache.GetPerformanceStats().EagerRefreshes);
    }
}
