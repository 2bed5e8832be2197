using System.Diagnostics.Metrics;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// The live heap as the most recent gen-2 collection found it (<c>optimizedcache.gc.live.size</c>): the bytes of the
/// objects that survived it. The runtime's own series cannot say this: the working set and the committed size hold the
/// GC's slack (Server GC and its dynamic adaptation grow budgets under load and give memory back lazily), and
/// <c>dotnet.gc.last_collection.heap.size</c> describes the latest collection of any generation, whose gen 2 still
/// holds whatever was promoted and has died since the last full one. A leak makes this value climb from one gen-2
/// collection to the next; slack does not.
/// </summary>
internal static class GcLiveHeapMetrics
{
    /// <summary>The meter's name (in <see cref="ServiceDefaultsOptions.DefaultMeters"/>).</summary>
    public const string MeterName = "OptimizedCache.Runtime";

    /// <summary>The gauge's name.</summary>
    public const string LiveSize = "optimizedcache.gc.live.size";

    private static readonly Meter Meter = new(MeterName);

    static GcLiveHeapMetrics()
    {
        Meter.CreateObservableGauge(LiveSize, Observe, "By",
            "Bytes of live objects found by the most recent gen-2 (full or background) collection; absent before the first one.");
    }

    /// <summary>Creates the meter (once per process) so that the meter provider finds it.</summary>
    public static void EnsureCreated() => _ = Meter;

    /// <summary>The survivors of the latest gen-2 collection, blocking or background, whichever came last; null before one.</summary>
    internal static long? LatestLiveBytes()
    {
        var full = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var latest = full.Index >= background.Index ? full : background;
        // a gen-2 collection condemns every generation, so what it promoted is everything that was live
        return latest.Index == 0 ? null : latest.PromotedBytes;
    }

    private static IEnumerable<Measurement<long>> Observe() =>
        LatestLiveBytes() is { } bytes ? [new Measurement<long>(bytes)] : [];
}
