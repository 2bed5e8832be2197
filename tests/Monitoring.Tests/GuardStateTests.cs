using OptimizedCache.Monitoring.Guard;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The guard's history: bounded, newest first, remembering the last rollback.</summary>
public sealed class GuardStateTests
{
    [Fact]
    public void KeepsOnlyTheNewestEvaluationsUpToItsCapacity()
    {
        var state = new GuardState(capacity: 3);
        var start = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < 10; i++)
        {
            state.Record(Evaluation(state.NextSequence(), start.AddSeconds(i), i == 4 ? GuardDecisions.RolledBack : GuardDecisions.Ok));
        }

        Assert.Equal([10L, 9L, 8L], state.History(100).Select(e => e.Sequence));
        Assert.Equal([10L], state.History(1).Select(e => e.Sequence));
        Assert.Equal(10, state.Latest!.Sequence);
        Assert.Equal(start.AddSeconds(4), state.LastRollbackAt);
    }

    [Fact]
    public async Task WakeEndsTheWaitBeforeTheInterval()
    {
        var state = new GuardState(capacity: 3);
        state.Wake();
        state.Wake();

        var wait = state.WaitAsync(TimeSpan.FromHours(1), TimeProvider.System, default);

        Assert.Same(wait, await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(10))));
    }

    private static GuardEvaluation Evaluation(long sequence, DateTimeOffset time, string decision) => new()
    {
        Sequence = sequence,
        Time = time,
        Decision = decision,
        Summary = decision,
        WindowSeconds = 300,
        PrometheusReachable = true,
        ApiReachable = true,
        Triggers = [],
        Targets = [],
        DryRunMode = false,
    };
}
