using System.Globalization;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>One soak sample as the leak criterion sees it (largest replica for each figure).</summary>
/// <param name="T">Seconds since the start.</param>
/// <param name="Gen2Collections">Gen-2 collections in the interval that ended here (all replicas).</param>
/// <param name="LiveExcludingL1Bytes">Live heap after the latest gen-2 collection less L1's size; NaN when not exported.</param>
/// <param name="WorkingSetExcludingL1Bytes">Working set less L1's size.</param>
internal readonly record struct LeakSample(double T, double Gen2Collections, double LiveExcludingL1Bytes, double WorkingSetExcludingL1Bytes);

/// <summary>What the criterion found: the series it judged, its trend, and the verdict (null: not judged).</summary>
internal sealed record LeakVerdict(bool? Leaking, string Basis, int Points, double SlopeMibPerHour, double RSquared, double FirstMib, double LastMib)
{
    public string Describe() => Points < 2
        ? $"{Basis}: {Points} points"
        : string.Create(CultureInfo.InvariantCulture, $"{Basis}: slope {SlopeMibPerHour:0.0} MiB/h, R² {RSquared:0.00} over {Points} points ({FirstMib:0} → {LastMib:0} MiB)");
}

/// <summary>
/// The soak's leak criterion (verification/README.md). A leak is memory that stays reachable and keeps growing, so it
/// is judged on the live heap the gen-2 collections find (<c>optimizedcache_gc_live_size_bytes</c>) less the L1 cache's
/// accounted size: one point per sampling interval in which a gen-2 collection ran, over the run's second half. The
/// working set is not judged when those points exist: it holds the GC's slack (Server GC sizes its budgets to the load
/// and returns memory lazily), which grew about 800 MiB/h in a 10-minute soak whose live heap less L1 was flat.
/// With fewer than <see cref="MinimumGcPoints"/> such points (the gauge missing, or too few gen-2 collections) the
/// working set less L1 is judged instead, as before: stricter, never a free pass.
/// A series fails when its least-squares slope is above the threshold, the line explains it (R² at or above the
/// minimum: it keeps growing rather than wandering around a level), and the growth the line fits over the judged span
/// is above a floor (a few MiB of noise over five minutes is a steep slope per hour). So a 10-minute run resolves
/// leaks from 8 MiB per 5 minutes (about 100 MiB/h), a 30-minute one from the 32 MiB/h threshold itself.
/// </summary>
internal static class LeakCriterion
{
    /// <summary>Gen-2 collections needed in the second half to judge the live heap.</summary>
    public const int MinimumGcPoints = 4;

    public static LeakVerdict Judge(IReadOnlyList<LeakSample> samples, double from, double maxSlopeMibPerHour, double minGrowthMib, double minR2, bool giveVerdict)
    {
        var second = samples.Where(s => s.T > from).ToList();
        var live = second.Where(s => s.Gen2Collections > 0 && double.IsFinite(s.LiveExcludingL1Bytes)).ToList();
        if (live.Count >= MinimumGcPoints)
        {
            return Fit("live heap after gen-2 collections, less L1", live, s => s.LiveExcludingL1Bytes, maxSlopeMibPerHour, minGrowthMib, minR2, giveVerdict);
        }

        var workingSet = second.Where(s => s.WorkingSetExcludingL1Bytes > 0).ToList();
        return Fit($"working set less L1 (only {live.Count} gen-2 collections with the live-heap gauge in the second half)", workingSet,
            s => s.WorkingSetExcludingL1Bytes, maxSlopeMibPerHour, minGrowthMib, minR2, giveVerdict);
    }

    /// <summary>The working set less L1 over the second half, as a trend only (it holds the GC's slack).</summary>
    public static LeakVerdict WorkingSetTrend(IReadOnlyList<LeakSample> samples, double from) =>
        Fit("working set less L1", [.. samples.Where(s => s.T > from && s.WorkingSetExcludingL1Bytes > 0)], s => s.WorkingSetExcludingL1Bytes, 0, 0, 0, giveVerdict: false);

    private static LeakVerdict Fit(
        string basis, List<LeakSample> points, Func<LeakSample, double> value, double maxSlope, double minGrowthMib, double minR2, bool giveVerdict)
    {
        if (points.Count < 3 || points.Select(p => p.T).Distinct().Count() < 2)
        {
            return new LeakVerdict(null, basis, points.Count, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var (slope, _, r2) = Statistics.LinearRegression([.. points.Select(p => p.T / 3600)], [.. points.Select(p => value(p) / 1048576)]);
        // the fitted growth over the judged span must also exceed the noise floor: a few MiB of wandering over five
        // minutes is a steep slope per hour, not a leak
        var growth = slope * (points[^1].T - points[0].T) / 3600;
        var growing = slope > maxSlope && r2 >= minR2 && growth > minGrowthMib;
        return new LeakVerdict(giveVerdict ? growing : null, basis, points.Count, slope, r2, value(points[0]) / 1048576, value(points[^1]) / 1048576);
    }
}
