using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class CoarseClockTests
{
    /// <summary>The tick count's resolution is 1-16 ms depending on the OS; 25 ms leaves room for a busy machine.</summary>
    private static readonly long Tolerance = Stopwatch.Frequency / 1000 * 25;

    [Fact]
    public void OnlyTheSystemClockGetsACoarseCompanion()
    {
        Assert.NotNull(CoarseClock.For(TimeProvider.System));
        Assert.Null(CoarseClock.For(new FakeTimeProvider()));
    }

    [Fact]
    public async Task ItTracksThePreciseClockToWithinTheTickResolution()
    {
        var coarse = CoarseClock.For(TimeProvider.System)!;
        var firstPrecise = Stopwatch.GetTimestamp();
        var firstCoarse = coarse.GetTimestamp();
        for (var i = 0; i < 40; i++)
        {
            var before = Stopwatch.GetTimestamp();
            var reading = coarse.GetTimestamp();
            var after = Stopwatch.GetTimestamp();
            Assert.InRange(reading, before - Tolerance, after + Tolerance);
            await Task.Delay(5);
        }

        // and it moves with the precise clock (over 200 ms or more), not by steps of its own
        var precise = Stopwatch.GetTimestamp() - firstPrecise;
        var advanced = coarse.GetTimestamp() - firstCoarse;
        Assert.InRange(advanced, precise - (2 * Tolerance), precise + (2 * Tolerance));
    }

    [Fact]
    public async Task OnTheSystemClockAnL1EntryIsServedUntilItsLocalExpirationAndNotAfter()
    {
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o => o.L1MaximumBytes = 16L << 20);
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        var calls = 0;
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = TimeSpan.FromSeconds(1) };
        ValueTask<string> Factory(CancellationToken _) => ValueTask.FromResult($"v{Interlocked.Increment(ref calls)}");

        Assert.Equal("v1", await cache.GetOrCreateAsync("product:clock", Factory, options));
        for (var i = 0; i < 200; i++)
        {
            // most of these hits read the coarse clock, one in 64 the precise one
            Assert.Equal("v1", await cache.GetOrCreateAsync("product:clock", Factory, options));
        }

        await Task.Delay(TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(Tolerance * TimeSpan.TicksPerSecond / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(50));
        Assert.Equal("v2", await cache.GetOrCreateAsync("product:clock", Factory, options));
        Assert.Equal(2, calls);
    }
}
