using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>
/// The failure ratio of the calls made while the circuit is closed: Polly's rule (failures against all calls in the
/// sampling duration, ten windows, a minimum throughput), counted without a lock per success.
/// </summary>
public sealed class ClosedCircuitHealthTests
{
    private static readonly TimeSpan Sampling = TimeSpan.FromSeconds(5);

    [Fact]
    public void DoesNotOpenBelowTheMinimumThroughputEvenWhenEveryCallFailed()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 10, () => now);

        for (var i = 1; i < 10; i++)
        {
            Assert.False(health.RecordFailure(), $"opened after {i} failures");
        }

        Assert.True(health.RecordFailure());
        Assert.Equal((0, 10), health.Snapshot());
    }

    [Fact]
    public void SuccessesInTheWindowKeepTheRatioBelowTheThreshold()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 10, () => now);
        for (var i = 0; i < 100; i++)
        {
            health.RecordSuccess();
        }

        // 99 failures against 100 successes: 49.7%
        for (var i = 0; i < 99; i++)
        {
            now += 10;
            Assert.False(health.RecordFailure(), $"opened at {i + 1} failures against 100 successes");
        }

        Assert.True(health.RecordFailure()); // 100 of 200: the ratio is reached
        Assert.Equal((100, 100), health.Snapshot());
    }

    [Fact]
    public void CallsOlderThanTheSamplingDurationNoLongerCount()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 4, () => now);
        for (var i = 0; i < 1000; i++)
        {
            health.RecordSuccess();
        }

        now += 4_000; // still inside the 5 s
        Assert.False(health.RecordFailure());
        Assert.Equal((1000, 1), health.Snapshot());

        now += 1_600; // the successes' window has left the sampling duration; the failure's has not
        Assert.Equal((0, 1), health.Snapshot());
        Assert.False(health.RecordFailure());
        Assert.False(health.RecordFailure());
        Assert.True(health.RecordFailure()); // four failures, nothing else in the window
    }

    [Fact]
    public void ResetForgetsEveryCount()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 2, () => now);
        for (var i = 0; i < 3; i++)
        {
            health.RecordSuccess();
        }

        Assert.False(health.RecordFailure()); // one of four

        health.Reset();

        Assert.Equal((0, 0), health.Snapshot());
        Assert.False(health.RecordFailure());
        Assert.True(health.RecordFailure());
    }

    [Fact]
    public void ASlotReusedAfterTheSamplingDurationStartsFromZero()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 2, () => now);
        for (var i = 0; i < 50; i++)
        {
            health.RecordSuccess();
        }

        now += 5_000; // same slot of the ten, ten windows later
        health.RecordSuccess();

        Assert.Equal((1, 0), health.Snapshot());
    }

    [Fact]
    public void SuccessesFromManyThreadsAreAllCounted()
    {
        long now = 1_000_000;
        var health = new ClosedCircuitHealth(Sampling, 0.5, minimumThroughput: 2, () => Volatile.Read(ref now));
        const int PerThread = 50_000;
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                health.RecordSuccess();
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.Equal((8L * PerThread, 0L), health.Snapshot());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RejectsAFailureRatioOutsideItsRange(double ratio)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ClosedCircuitHealth(Sampling, ratio, 10));
        Assert.Equal("failureRatio", ex.ParamName);
    }

    [Fact]
    public void RejectsAMinimumThroughputBelowOne()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ClosedCircuitHealth(Sampling, 0.5, 0));
        Assert.Equal("minimumThroughput", ex.ParamName);
    }
}
