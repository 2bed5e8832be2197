using System.Globalization;
using Microsoft.Extensions.Options;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Monitoring.Rollout;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>
/// One evaluation of the rollout guard: read the phase from the Api, read the window's figures from Prometheus,
/// keep the phase-0 baseline, evaluate the triggers and, at phase 1 or later, roll back the current phase when one
/// holds (unless in dry run or cooldown). Every evaluation is recorded in <see cref="GuardState"/> and counted.
/// </summary>
public sealed class RolloutGuard(
    PrometheusClient prometheus,
    RolloutApiClient api,
    BaselineStore baselines,
    GuardState state,
    GuardMetrics metrics,
    IOptionsMonitor<GuardOptions> options,
    TimeProvider timeProvider,
    ILogger<RolloutGuard> logger)
{
    private readonly Lock _evaluationLock = new();
    private bool _prometheusWasDown;

    /// <summary>Takes the baseline from the current window now, replacing any earlier one.</summary>
    /// <returns>The new baseline, or an explanation of why none could be taken.</returns>
    public async Task<(Baseline? Baseline, string? Problem)> TakeBaselineAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var m = await Measurements.ReadAsync(prometheus, o, o.Window, timeProvider.GetUtcNow(), cancellationToken);
        return TryTakeBaseline(m, o, out var baseline, out var problem) ? (baseline, null) : (null, problem);
    }

    /// <summary>Runs one evaluation and records it.</summary>
    public async Task<GuardEvaluation> EvaluateOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var now = timeProvider.GetUtcNow();

        RolloutState? rollout = null;
        string? apiError = null;
        try
        {
            rollout = await api.GetRolloutAsync(cancellationToken);
        }
        catch (RolloutApiUnavailableException e)
        {
            apiError = e.Message;
            Log.ApiUnreachable(logger, e.Message);
        }

        // A phase is judged on the traffic it served: the window never reaches back before the phase began.
        var window = o.Window;
        if (rollout?.Since is { } since && now - since < o.Window)
        {
            window = now - since < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : now - since;
        }

        Measurements? m = null;
        string? prometheusError = null;
        var prometheusReachable = true;
        var queryFailed = false;
        try
        {
            m = await Measurements.ReadAsync(prometheus, o, window, now, cancellationToken);
            if (_prometheusWasDown)
            {
                Log.PrometheusRecovered(logger);
            }

            _prometheusWasDown = false;
        }
        catch (PrometheusUnavailableException e)
        {
            prometheusReachable = false;
            prometheusError = e.Message;
            _prometheusWasDown = true;
            Log.PrometheusUnreachable(logger, e.Message);
        }
        catch (PrometheusQueryException e)
        {
            queryFailed = true;
            prometheusError = e.Message;
            Log.QueryFailed(logger, e.Message);
        }

        IReadOnlyList<TriggerResult> triggers;
        IReadOnlyList<TargetResult> targets;
        if (m is not null)
        {
            if (rollout?.Phase == 0 && baselines.Current is null && window == o.Window)
            {
                TryTakeBaseline(m, o, out _, out _);
            }

            triggers = TriggerEvaluator.Evaluate(m, baselines.Current, o);
            targets = TargetEvaluator.Evaluate(m, baselines.Current, o);
        }
        else
        {
            var why = prometheusReachable ? "a query failed" : "Prometheus unreachable";
            triggers = [.. TriggerNames.All.Select(n => new TriggerResult(n, TriggerState.InsufficientData, null, null, null, null, "", why, false, []))];
            targets = [];
        }

        var evaluation = new GuardEvaluation
        {
            Sequence = state.NextSequence(),
            Time = now,
            Phase = rollout?.Phase,
            Plan = rollout?.Plan,
            Features = rollout?.Features,
            Decision = GuardDecisions.Ok,
            Summary = string.Empty,
            WindowSeconds = window.TotalSeconds,
            PrometheusReachable = prometheusReachable,
            PrometheusError = prometheusError,
            ApiReachable = rollout is not null,
            ApiError = apiError,
            Triggers = triggers,
            Targets = targets,
            DryRunMode = o.DryRun,
        };

        evaluation = await DecideAsync(evaluation, m is null, queryFailed, o, cancellationToken);
        if (rollout?.Changes is { } changes)
        {
            state.RolloutChanges = changes;
        }

        state.Record(evaluation);
        metrics.Evaluated(evaluation.Decision);
        Log.Evaluated(logger, evaluation.Phase, evaluation.Decision);
        return evaluation;
    }

    private async Task<GuardEvaluation> DecideAsync(
        GuardEvaluation e, bool noMeasurements, bool queryFailed, GuardOptions o, CancellationToken cancellationToken)
    {
        if (noMeasurements)
        {
            return queryFailed
                ? e with { Decision = GuardDecisions.QueryFailed, Summary = "no action: " + e.PrometheusError }
                : e with { Decision = GuardDecisions.PrometheusUnreachable, Summary = "no action: Prometheus is unreachable (" + e.PrometheusError + ")" };
        }

        if (e.Phase is not { } phase)
        {
            return e with { Decision = GuardDecisions.ApiUnreachable, Summary = "no action: the Api is unreachable (" + e.ApiError + ")" };
        }

        if (phase == 0)
        {
            return e with { Decision = GuardDecisions.PhaseZero, Summary = "phase 0: nothing to roll back" };
        }

        var firing = e.Triggers.Where(t => t.State == TriggerState.Firing).ToList();
        if (firing.Count == 0 && o.RollbackOnMissingData)
        {
            firing = [.. e.Triggers.Where(t => t.MissingData)];
        }

        if (firing.Count == 0 && e.WindowSeconds < o.Window.TotalSeconds)
        {
            return e with
            {
                Decision = GuardDecisions.Collecting,
                Summary = string.Create(CultureInfo.InvariantCulture,
                    $"phase {phase} began {e.WindowSeconds:0} s ago: judging its own traffic only, no trigger holds on it yet"),
            };
        }

        if (firing.Count == 0)
        {
            var insufficient = e.Triggers.Where(t => t.State == TriggerState.InsufficientData).Select(t => t.Name).ToList();
            return insufficient.Count == 0
                ? e with { Decision = GuardDecisions.Ok, Summary = "no trigger holds" }
                : e with { Decision = GuardDecisions.InsufficientData, Summary = "no trigger holds; insufficient data for " + string.Join(", ", insufficient) };
        }

        var trigger = firing[0].Name;
        var reason = Reason(firing, phase, o);
        var cooldown = o.Cooldown > o.Window ? o.Cooldown : o.Window;
        if (state.LastRollbackAt is { } last && e.Time - last < cooldown)
        {
            Log.Cooldown(logger, trigger, last, last + cooldown);
            return e with
            {
                Decision = GuardDecisions.Cooldown,
                Trigger = trigger,
                Summary = string.Create(CultureInfo.InvariantCulture, $"{trigger} holds, but within the cooldown of the rollback at {last:O}; no action until {last + cooldown:O}"),
            };
        }

        if (o.DryRun)
        {
            Log.DryRunRollback(logger, phase, reason);
            metrics.RolledBack(trigger, "dry_run");
            return e with { Decision = GuardDecisions.DryRun, Trigger = trigger, Summary = "dry run, would roll back: " + reason };
        }

        Log.RollingBack(logger, phase, reason);
        try
        {
            var result = await api.ChangeRolloutAsync("rollback", "current", reason, RolloutApiClient.GuardActor, phase, cancellationToken);
            if (result.Succeeded)
            {
                Log.RolledBack(logger, phase, result.StatusCode);
                metrics.RolledBack(trigger, "executed");
                return e with { Decision = GuardDecisions.RolledBack, Trigger = trigger, Summary = $"rolled back phase {phase}: {reason}" };
            }

            var error = string.Create(CultureInfo.InvariantCulture, $"the Api answered {result.StatusCode}: {Shorten(result.Body)}");
            Log.RollbackFailed(logger, phase, error);
            metrics.RolledBack(trigger, "failed");
            return e with { Decision = GuardDecisions.RollbackFailed, Trigger = trigger, Summary = $"rollback of phase {phase} failed ({error}); {reason}" };
        }
        catch (RolloutApiUnavailableException ex)
        {
            Log.RollbackFailed(logger, phase, ex.Message);
            metrics.RolledBack(trigger, "failed");
            return e with { Decision = GuardDecisions.RollbackFailed, Trigger = trigger, Summary = $"rollback of phase {phase} failed ({ex.Message}); {reason}" };
        }
    }

    private bool TryTakeBaseline(Measurements m, GuardOptions o, out Baseline? baseline, out string? problem)
    {
        lock (_evaluationLock)
        {
            baseline = null;
            var requests = m.Value(Measurements.Names.Requests);
            if (m.Value(Measurements.Names.MaxPhase) is not 0.0)
            {
                problem = string.Create(CultureInfo.InvariantCulture,
                    $"the baseline needs a window of phase-0 traffic; the highest phase in the last {RolloutQueries.Duration(o.Window)} was {m.Value(Measurements.Names.MaxPhase)?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");
                return false;
            }

            if (requests is null || requests < o.MinimumRequests)
            {
                problem = string.Create(CultureInfo.InvariantCulture,
                    $"the baseline needs at least {o.MinimumRequests} requests in the window; there were {requests ?? 0:0}");
                return false;
            }

            baseline = new Baseline(
                m.Time,
                m.Window.TotalSeconds,
                requests.Value,
                m.Value(Measurements.Names.AllLatency),
                o.Triggers.LatencyQuantile,
                (m.Value(Measurements.Names.Errors) ?? 0) / requests.Value,
                m.Value(Measurements.Names.OriginCalls) is { } calls ? calls / requests.Value : null);
            try
            {
                baselines.Save(baseline);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without a persisted baseline a restart would compare against nothing; say so and try again next time.
                Log.BaselineSaveFailed(logger, baselines.Path, e);
                problem = $"the baseline could not be written to '{baselines.Path}': {e.Message}";
                baseline = null;
                return false;
            }

            Log.BaselineTaken(logger, baseline.Requests, baseline.LatencySeconds, baseline.ErrorRate, baseline.OriginCallsPerRequest);
            problem = null;
            return true;
        }
    }

    private static string Reason(IReadOnlyList<TriggerResult> firing, int phase, GuardOptions o)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"rollout-guard: {string.Join("; ", firing.Select(t => $"{t.Name}: {t.Summary}"))} (phase {phase}, window {RolloutQueries.Duration(o.Window)})");
        return text.Length <= 500 ? text : text[..497] + "...";
    }

    private static string Shorten(string body) => body.Length <= 200 ? body : body[..200] + "...";
}
