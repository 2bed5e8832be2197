using OptimizedCache.Benchmarks.Verification;

namespace OptimizedCache.ServiceDefaults.Tests;

/// <summary>
/// The soak's leak criterion on synthetic samples: GC slack passes, a live heap that keeps growing fails, and without
/// enough gen-2 collections the stricter working-set rule still judges.
/// </summary>
public sealed class LeakCriterionTests
{
    private const double Mib = 1048576;

    [Fact]
    public void AWorkingSetGrowingWithGcSlackOverAFlatLiveHeapPasses()
    {
        // the shape of the failed 10-minute soak: working set less L1 +800 MiB/h, live heap less L1 level around 120 MiB
        var samples = Run(minutes: 10, workingSetMibPerHour: 800, liveMibPerHour: 0, gcEverySeconds: 60);
        const double half = 300;

        var verdict = LeakCriterion.Judge(samples, half, 32, 8, 0.5, giveVerdict: true);

        Assert.False(verdict.Leaking);
        Assert.StartsWith("live heap", verdict.Basis, StringComparison.Ordinal);
        Assert.True(verdict.Points >= LeakCriterion.MinimumGcPoints);
    }

    [Theory]
    [InlineData(10, 200)] // a 10-minute run resolves leaks from 8 MiB per 5 minutes (96 MiB/h)
    [InlineData(30, 40)] // a 30-minute one from 8 MiB per 15 minutes (32 MiB/h)
    public void ALiveHeapThatKeepsGrowingFails(double minutes, double leakMibPerHour)
    {
        var samples = Run(minutes, workingSetMibPerHour: 0, liveMibPerHour: leakMibPerHour, gcEverySeconds: 60);
        var half = minutes * 30;

        var verdict = LeakCriterion.Judge(samples, half, 32, 8, 0.5, giveVerdict: true);

        Assert.True(verdict.Leaking, verdict.Describe());
        Assert.InRange(verdict.SlopeMibPerHour, leakMibPerHour * 0.7, leakMibPerHour * 1.3);
    }

    [Fact]
    public void WithTooFewGen2CollectionsTheWorkingSetIsJudgedAndAGrowingOneFails()
    {
        var samples = Run(minutes: 10, workingSetMibPerHour: 800, liveMibPerHour: 0, gcEverySeconds: 200);
        const double half = 300;

        var verdict = LeakCriterion.Judge(samples, half, 32, 8, 0.5, giveVerdict: true);

        Assert.StartsWith("working set", verdict.Basis, StringComparison.Ordinal);
        Assert.True(verdict.Leaking);
    }

    [Fact]
    public void WithoutTheLiveHeapGaugeTheWorkingSetIsJudged()
    {
        var samples = Run(minutes: 10, workingSetMibPerHour: 0, liveMibPerHour: 0, gcEverySeconds: 30)
            .Select(s => s with { LiveExcludingL1Bytes = double.NaN }).ToList();
        const double half = 300;

        var verdict = LeakCriterion.Judge(samples, half, 32, 8, 0.5, giveVerdict: true);

        Assert.StartsWith("working set", verdict.Basis, StringComparison.Ordinal);
        Assert.False(verdict.Leaking);
    }

    [Fact]
    public void AShortRunReportsTheTrendWithoutAVerdict()
    {
        var verdict = LeakCriterion.Judge(Run(minutes: 4, 0, 500, 20), 120, 32, 8, 0.5, giveVerdict: false);

        Assert.Null(verdict.Leaking);
        Assert.True(verdict.SlopeMibPerHour > 32);
    }

    // Samples every 5 s: L1 filling to 60 MiB (subtracted, so it must not count), the working set less L1 from 300 MiB
    // with the given slope plus a sawtooth of ±15 MiB, the live heap less L1 from 120 MiB with the given slope and
    // ±3 MiB of noise, refreshed only in intervals with a gen-2 collection.
    private static List<LeakSample> Run(double minutes, double workingSetMibPerHour, double liveMibPerHour, double gcEverySeconds)
    {
        var random = new Random(7);
        var samples = new List<LeakSample>();
        var live = 120 * Mib;
        for (var t = 5.0; t <= minutes * 60; t += 5)
        {
            var gc = Math.Floor(t / gcEverySeconds) > Math.Floor((t - 5) / gcEverySeconds);
            if (gc)
            {
                live = (120 + (liveMibPerHour * t / 3600) + ((random.NextDouble() - 0.5) * 6)) * Mib;
            }

            var workingSet = (300 + (workingSetMibPerHour * t / 3600) + (15 * Math.Sin(t / 20))) * Mib;
            samples.Add(new LeakSample(t, gc ? 1 : 0, live, workingSet));
        }

        return samples;
    }
}
