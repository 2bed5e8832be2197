using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Internal;

public sealed class ProcessCpuLoadSourceTests
{
    [Fact]
    public void DividesCpuTimeByWallTimeAcrossProcessors()
    {
        var clock = new FakeTimeProvider();
        var cpu = TimeSpan.Zero;
        var source = new ProcessCpuLoadSource(clock, TimeSpan.FromSeconds(1), () => cpu, processorCount: 2);

        Assert.Equal(0, source.GetLoad());

        clock.Advance(TimeSpan.FromSeconds(2));
        cpu = TimeSpan.FromSeconds(1);
        Assert.Equal(0.25, source.GetLoad(), 10);

        clock.Advance(TimeSpan.FromSeconds(1));
        cpu += TimeSpan.FromSeconds(5);
        Assert.Equal(1.0, source.GetLoad());
    }

    [Fact]
    public void KeepsTheLastSampleUntilTheIntervalHasPassed()
    {
        var clock = new FakeTimeProvider();
        var cpu = TimeSpan.Zero;
        var source = new ProcessCpuLoadSource(clock, TimeSpan.FromSeconds(1), () => cpu, processorCount: 1);
        clock.Advance(TimeSpan.FromSeconds(1));
        cpu = TimeSpan.FromSeconds(0.5);
        Assert.Equal(0.5, source.GetLoad(), 10);

        cpu = TimeSpan.FromSeconds(1.5);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0.5, source.GetLoad(), 10);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1.0, source.GetLoad(), 10);
    }

    [Fact]
    public void SeesThisProcessBurningCpuAndThenIdling()
    {
        var clock = new FakeTimeProvider();
        var source = new ProcessCpuLoadSource(clock, TimeSpan.FromMilliseconds(100));
        var start = Environment.CpuUsage.TotalTime;
        var spins = 0L;
        while (Environment.CpuUsage.TotalTime - start < TimeSpan.FromMilliseconds(300))
        {
            spins++;
        }

        // At least 300 ms of CPU in 100 ms of (manual) wall time: at least 3 processors' worth.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(spins > 0);
        Assert.True(source.GetLoad() >= Math.Min(1.0, 3.0 / Environment.ProcessorCount) - 1e-9);

        clock.Advance(TimeSpan.FromHours(10));
        Assert.InRange(source.GetLoad(), 0.0, 0.01);
    }
}
