using System.Diagnostics.Metrics;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>
/// The guard's instruments on the meter <see cref="MeterName"/>. Their Prometheus names are listed in
/// Monitoring/README.md. Tags come from fixed sets (trigger, decision, outcome).
/// </summary>
public sealed class GuardMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "OptimizedCache.Monitoring";

    /// <summary>Gauge: each trigger's state (0 ok, 1 firing, 2 insufficient data), tag <c>trigger</c>.</summary>
    public const string TriggerStateName = "rollout_guard.trigger.state";

    /// <summary>Gauge: each trigger's measured value in its unit (percent or seconds), tag <c>trigger</c>.</summary>
    public const string TriggerValueName = "rollout_guard.trigger.value";

    /// <summary>Counter: evaluations, tag <c>decision</c>.</summary>
    public const string EvaluationsName = "rollout_guard.evaluations";

    /// <summary>Counter: rollbacks, tags <c>trigger</c> and <c>outcome</c> (<c>executed</c>, <c>dry_run</c>, <c>failed</c>).</summary>
    public const string RollbacksName = "rollout_guard.rollbacks";

    /// <summary>Gauge: 1 when Prometheus answered the last evaluation, else 0.</summary>
    public const string PrometheusUpName = "rollout_guard.prometheus.up";

    /// <summary>Gauge: 1 for the last evaluation's decision, tag <c>decision</c>.</summary>
    public const string LastDecisionName = "rollout_guard.last_decision";

    /// <summary>Gauge: Unix time of the last evaluation, seconds.</summary>
    public const string LastEvaluationName = "rollout_guard.last_evaluation.time";

    /// <summary>Gauge: 1 when a baseline is recorded, else 0.</summary>
    public const string BaselinePresentName = "rollout_guard.baseline.present";

    private readonly Counter<long> _evaluations;
    private readonly Counter<long> _rollbacks;

    /// <summary>Creates the instruments.</summary>
    public GuardMetrics(IMeterFactory meterFactory, GuardState state, BaselineStore baseline)
    {
        var meter = meterFactory.Create(MeterName);
        _evaluations = meter.CreateCounter<long>(EvaluationsName, "{evaluation}", "Rollout guard evaluations by decision.");
        _rollbacks = meter.CreateCounter<long>(RollbacksName, "{rollback}", "Rollbacks the rollout guard made or, in dry run, would have made.");
        meter.CreateObservableGauge(TriggerStateName, () => TriggerMeasurements(state, r => (int)r.State), "{state}",
            "Rollback trigger state: 0 ok, 1 firing, 2 insufficient data.");
        meter.CreateObservableGauge(TriggerValueName, () => TriggerValues(state), null,
            "Rollback trigger's measured value (percent, or seconds for response_time).");
        meter.CreateObservableGauge(PrometheusUpName, () => state.Latest is { } e ? [new Measurement<int>(e.PrometheusReachable ? 1 : 0)] : Array.Empty<Measurement<int>>(),
            null, "1 when Prometheus answered the rollout guard's last evaluation.");
        meter.CreateObservableGauge(LastDecisionName,
            () => state.Latest is { } e ? [new Measurement<int>(1, new KeyValuePair<string, object?>("decision", e.Decision))] : Array.Empty<Measurement<int>>(),
            null, "The rollout guard's last decision (value 1, decision as a tag).");
        meter.CreateObservableGauge(LastEvaluationName,
            () => state.Latest is { } e ? [new Measurement<double>(e.Time.ToUnixTimeMilliseconds() / 1000.0)] : Array.Empty<Measurement<double>>(),
            "s", "Unix time of the rollout guard's last evaluation.");
        meter.CreateObservableGauge(BaselinePresentName, () => baseline.Current is null ? 0 : 1, null, "1 when a phase-0 baseline is recorded.");
    }

    /// <summary>Counts an evaluation.</summary>
    public void Evaluated(string decision) => _evaluations.Add(1, new KeyValuePair<string, object?>("decision", decision));

    /// <summary>Counts a rollback (or dry-run rollback, or failed attempt).</summary>
    public void RolledBack(string trigger, string outcome) =>
        _rollbacks.Add(1, new KeyValuePair<string, object?>("trigger", trigger), new KeyValuePair<string, object?>("outcome", outcome));

    private static IEnumerable<Measurement<int>> TriggerMeasurements(GuardState state, Func<TriggerResult, int> select) =>
        state.Latest?.Triggers.Select(t => new Measurement<int>(select(t), new KeyValuePair<string, object?>("trigger", t.Name))) ?? [];

    private static IEnumerable<Measurement<double>> TriggerValues(GuardState state) =>
        state.Latest?.Triggers.Where(t => t.Value is not null)
            .Select(t => new Measurement<double>(t.Value!.Value, new KeyValuePair<string, object?>("trigger", t.Name))) ?? [];
}
