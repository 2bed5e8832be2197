using System.Runtime.CompilerServices;
using OptimizedCache.ServiceDefaults.Internal;

namespace OptimizedCache.ServiceDefaults.Tests;

/// <summary>The live-heap gauge the soak judges: what a full collection kept, and no more once it is released.</summary>
[Collection(HeapMeasurement.Name)]
public sealed class GcLiveHeapMetricsTests
{
    private const double Mib = 1048576;

    private byte[]? _held;

    [Fact]
    public void TheLiveHeapGaugeReportsWhatAFullCollectionKeptAndDropsWhenItIsReleased()
    {
        Hold();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var withArray = GcLiveHeapMetrics.LatestLiveBytes();
        Release();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var without = GcLiveHeapMetrics.LatestLiveBytes();

        Assert.NotNull(withArray);
        Assert.NotNull(without);
        Assert.True(withArray - without >= 60 * Mib, $"{withArray} then {without}");
    }

    // Outside the test's own frame: unoptimized (tier-0) code keeps its temporaries alive to the end of the method.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Hold()
    {
        _held = new byte[64 << 20];
        _held.AsSpan().Fill(1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Release() => _held = null;

}

/// <summary>Tests that measure the whole heap run alone: other tests' allocations would count as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
