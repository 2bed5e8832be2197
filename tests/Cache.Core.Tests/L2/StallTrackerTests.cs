using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>The stall rule measured in time: silences add up within the window, a single short one does not trip it.</summary>
public sealed class StallTrackerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    [Fact]
    public void OneStallShorterThanTheThresholdDoesNotTripIt()
    {
        var clock = new FakeTimeProvider();
        var tracker = new StallTracker(Timeout, TimeSpan.FromSeconds(5), 0.5, clock);

        // a 1.5 s pause: the calls sent in its first 0.5 s time out one after another
        clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
        {
            Assert.False(tracker.RecordTimeout());
            clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(1.45, tracker.SilenceInWindow.TotalSeconds, 3);
    }

    [Fact]
    public void RepeatedPausesTripItOnceTheirSilenceReachesTheRatioOfTheWindow()
    {
        var clock = new FakeTimeProvider();
        var tracker = new StallTracker(Timeout, TimeSpan.FromSeconds(5), 0.5, clock);

        // CLIENT PAUSE 1500 every 2000 ms, as in the verification drill: 1.5 s of silence per period
        var tripped = new List<double>();
        for (var t = 0; t < 8000; t += 50)
        {
            var inPeriod = t % 2000;
            if (inPeriod is >= 1000 and < 1500 && tracker.RecordTimeout())
            {
                tripped.Add(t / 1000.0);
                tracker.Reset();
            }

            clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        // 1.45 s of the first pause (its last timeout at 1.45 s) and 1.05 s of the second: 2.5 s of the 5 s window;
        // after each reset the rest of that pause and the next one add up to it again
        Assert.Equal([3.05, 5.15, 7.25], tripped.Select(t => Math.Round(t, 2)));
    }

    [Fact]
    public void SilencesOlderThanTheWindowAreForgotten()
    {
        var clock = new FakeTimeProvider();
        var tracker = new StallTracker(Timeout, TimeSpan.FromSeconds(5), 0.5, clock);

        clock.Advance(TimeSpan.FromSeconds(1));
        tracker.RecordTimeout();
        clock.Advance(TimeSpan.FromSeconds(4));
        tracker.RecordTimeout();
        Assert.Equal(2.0, tracker.SilenceInWindow.TotalSeconds, 3);

        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.Zero, tracker.SilenceInWindow);
        Assert.False(tracker.RecordTimeout()); // one timeout alone: 1 s of 5
    }

    [Fact]
    public void ManySpreadTimeoutsKeepOnlyTheSilencesOfTheWindow()
    {
        var clock = new FakeTimeProvider();
        var tracker = new StallTracker(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), 0.99, clock);

        // one isolated timeout every 20 ms for a minute: half of every window silent, never 99%
        for (var i = 0; i < 3000; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            Assert.False(tracker.RecordTimeout());
        }

        Assert.InRange(tracker.SilenceInWindow.TotalSeconds, 0.49, 0.51);
    }

    [Fact]
    public void RepliesThatWaitedHalfTheTimeoutOrMoreCountAsSilenceAndQuickOnesDoNot()
    {
        var clock = new FakeTimeProvider();
        var tracker = new StallTracker(Timeout, TimeSpan.FromSeconds(5), 0.5, clock);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(tracker.RecordAnswer(TimeSpan.FromMilliseconds(499).Ticks));
        Assert.Equal(TimeSpan.Zero, tracker.SilenceInWindow);

        // a 1.5 s pause: calls sent in its first 0.5 s time out, the later ones are answered when it ends
        clock.Advance(TimeSpan.FromSeconds(1));
        tracker.RecordTimeout(); // silent [1, 2]
        clock.Advance(TimeSpan.FromMilliseconds(500));
        tracker.RecordTimeout(); // [1.5, 2.5]
        Assert.False(tracker.RecordAnswer(TimeSpan.FromMilliseconds(900).Ticks)); // [1.6, 2.5]: already counted
        Assert.Equal(1.5, tracker.SilenceInWindow.TotalSeconds, 3);

        // the next pause: its slow replies alone reach 2.5 s of the 5 s window
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(tracker.RecordAnswer(TimeSpan.FromMilliseconds(1000).Ticks));
        Assert.Equal(2.5, tracker.SilenceInWindow.TotalSeconds, 3);
    }
}
