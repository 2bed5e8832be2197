using System.Text.Json.Serialization;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>What the guard decided in one evaluation.</summary>
public static class GuardDecisions
{
    /// <summary>No trigger holds.</summary>
    public const string Ok = "ok";

    /// <summary>No trigger holds, and at least one could not be evaluated.</summary>
    public const string InsufficientData = "insufficient_data";

    /// <summary>The phase began less than a window ago and no trigger holds on its own traffic yet: no action.</summary>
    public const string Collecting = "collecting";

    /// <summary>Phase 0: nothing to roll back (baseline time).</summary>
    public const string PhaseZero = "phase_zero";

    /// <summary>A trigger held; the guard rolled back.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>A trigger held; dry run, so the guard only recorded it.</summary>
    public const string DryRun = "dry_run";

    /// <summary>A trigger held within the cooldown of the last rollback.</summary>
    public const string Cooldown = "cooldown";

    /// <summary>A trigger held; the rollback call failed.</summary>
    public const string RollbackFailed = "rollback_failed";

    /// <summary>Prometheus did not answer: no action.</summary>
    public const string PrometheusUnreachable = "prometheus_unreachable";

    /// <summary>Prometheus rejected a query: no action.</summary>
    public const string QueryFailed = "query_failed";

    /// <summary>The Api did not answer: no action.</summary>
    public const string ApiUnreachable = "api_unreachable";
}

/// <summary>One evaluation of the guard with its evidence.</summary>
public sealed record GuardEvaluation
{
    /// <summary>Increasing number of the evaluation since start.</summary>
    public required long Sequence { get; init; }

    /// <summary>When it ran.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The phase the Api reported, or null when it did not answer.</summary>
    public int? Phase { get; init; }

    /// <summary>The rollout plan the Api reported.</summary>
    public string? Plan { get; init; }

    /// <summary>Flag percentages the Api reported.</summary>
    public IReadOnlyDictionary<string, double>? Features { get; init; }

    /// <summary>A <see cref="GuardDecisions"/> value.</summary>
    public required string Decision { get; init; }

    /// <summary>One line describing the decision.</summary>
    public required string Summary { get; init; }

    /// <summary>The trigger that caused a rollback (or would have), if any.</summary>
    public string? Trigger { get; init; }

    /// <summary>The window, seconds.</summary>
    public required double WindowSeconds { get; init; }

    /// <summary>Whether Prometheus answered.</summary>
    public required bool PrometheusReachable { get; init; }

    /// <summary>Why Prometheus did not answer, or rejected a query.</summary>
    public string? PrometheusError { get; init; }

    /// <summary>Whether the Api answered.</summary>
    public required bool ApiReachable { get; init; }

    /// <summary>Why the Api did not answer.</summary>
    public string? ApiError { get; init; }

    /// <summary>Every trigger's result.</summary>
    public required IReadOnlyList<TriggerResult> Triggers { get; init; }

    /// <summary>Every target's result.</summary>
    public required IReadOnlyList<TargetResult> Targets { get; init; }

    /// <summary>Whether the guard ran in dry-run mode.</summary>
    public required bool DryRunMode { get; init; }
}

/// <summary>
/// The guard's shared state: the bounded history of evaluations, the last rollback, and a wake-up signal the
/// panel uses to ask for an immediate evaluation after a change.
/// </summary>
public sealed class GuardState(int capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<GuardEvaluation> _history = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _sequence;

    /// <summary>The newest evaluation, or null before the first.</summary>
    [JsonIgnore]
    public GuardEvaluation? Latest { get; private set; }

    /// <summary>The Api's latest rollout changes as the newest evaluation read them (the panel's audit).</summary>
    [JsonIgnore]
    public IReadOnlyList<Rollout.RolloutChange> RolloutChanges { get; set; } = [];

    /// <summary>When the guard last rolled back (or would have, in dry run).</summary>
    public DateTimeOffset? LastRollbackAt { get; private set; }

    /// <summary>How many evaluations the history holds at most.</summary>
    public int Capacity => capacity;

    /// <summary>The next sequence number.</summary>
    public long NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Records an evaluation, dropping the oldest past the capacity.</summary>
    public void Record(GuardEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        lock (_lock)
        {
            _history.AddFirst(evaluation);
            while (_history.Count > capacity)
            {
                _history.RemoveLast();
            }

            Latest = evaluation;
            if (evaluation.Decision is GuardDecisions.RolledBack or GuardDecisions.DryRun)
            {
                LastRollbackAt = evaluation.Time;
            }
        }
    }

    /// <summary>The newest <paramref name="limit"/> evaluations, newest first.</summary>
    public IReadOnlyList<GuardEvaluation> History(int limit)
    {
        lock (_lock)
        {
            return [.. _history.Take(Math.Clamp(limit, 0, capacity))];
        }
    }

    /// <summary>Asks the guard to evaluate now rather than at the end of its interval.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already asked.
        }
    }

    /// <summary>Waits for the interval or a <see cref="Wake"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan interval, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(interval, timeProvider, cts.Token);
        var wake = _wake.WaitAsync(cts.Token);
        await Task.WhenAny(delay, wake);
        await cts.CancelAsync();
        try
        {
            await Task.WhenAll(delay, wake);
        }
        catch (OperationCanceledException)
        {
            // The other one was cancelled, as intended.
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}
