using Microsoft.Extensions.Logging;

namespace OptimizedCache.Monitoring;

/// <summary>Monitoring's log messages. Keys and reasons typed by operators are never logged; API keys never.</summary>
internal static partial class Log
{
    public const int GuardDisabledId = 1;
    public const int EvaluatedId = 2;
    public const int PrometheusUnreachableId = 3;
    public const int ApiUnreachableId = 4;
    public const int QueryFailedId = 5;
    public const int RollingBackId = 6;
    public const int RolledBackId = 7;
    public const int RollbackFailedId = 8;
    public const int DryRunRollbackId = 9;
    public const int CooldownId = 10;
    public const int BaselineTakenId = 11;
    public const int EvaluationFailedId = 12;
    public const int PanelChangeId = 13;
    public const int PanelKeyRejectedId = 14;
    public const int PrometheusRecoveredId = 15;
    public const int BaselineSaveFailedId = 16;

    [LoggerMessage(GuardDisabledId, LogLevel.Warning, "The rollout guard is disabled (Monitoring:Guard:Enabled = false); no automatic rollback will happen")]
    public static partial void GuardDisabled(ILogger logger);

    [LoggerMessage(EvaluatedId, LogLevel.Debug, "Rollout guard evaluation at phase {Phase}: {Decision}")]
    public static partial void Evaluated(ILogger logger, int? phase, string decision);

    [LoggerMessage(PrometheusUnreachableId, LogLevel.Warning, "Prometheus is unreachable; the rollout guard takes no action until it answers: {Error}")]
    public static partial void PrometheusUnreachable(ILogger logger, string error);

    [LoggerMessage(PrometheusRecoveredId, LogLevel.Information, "Prometheus answers again; the rollout guard resumes")]
    public static partial void PrometheusRecovered(ILogger logger);

    [LoggerMessage(ApiUnreachableId, LogLevel.Warning, "The Api's admin endpoint is unreachable; the rollout guard cannot read the phase or roll back: {Error}")]
    public static partial void ApiUnreachable(ILogger logger, string error);

    [LoggerMessage(QueryFailedId, LogLevel.Error, "A rollout guard query failed: {Error}")]
    public static partial void QueryFailed(ILogger logger, string error);

    [LoggerMessage(RollingBackId, LogLevel.Warning, "Rollout guard rolling back phase {Phase}: {Reason}")]
    public static partial void RollingBack(ILogger logger, int phase, string reason);

    [LoggerMessage(RolledBackId, LogLevel.Warning, "Rollout guard rolled back phase {Phase} (Api answered {StatusCode})")]
    public static partial void RolledBack(ILogger logger, int phase, int statusCode);

    [LoggerMessage(RollbackFailedId, LogLevel.Error, "Rollout guard could not roll back phase {Phase}: {Error}")]
    public static partial void RollbackFailed(ILogger logger, int phase, string error);

    [LoggerMessage(DryRunRollbackId, LogLevel.Warning, "Rollout guard (dry run) would roll back phase {Phase}: {Reason}")]
    public static partial void DryRunRollback(ILogger logger, int phase, string reason);

    [LoggerMessage(CooldownId, LogLevel.Information, "Rollout guard: trigger {Trigger} holds, but the last rollback was at {LastRollback:O}; cooling down until {Until:O}")]
    public static partial void Cooldown(ILogger logger, string trigger, DateTimeOffset lastRollback, DateTimeOffset until);

    [LoggerMessage(BaselineTakenId, LogLevel.Information, "Rollout baseline taken from {Requests} phase-0 requests: latency {LatencySeconds} s, error rate {ErrorRate}, origin calls per request {OriginCallsPerRequest}")]
    public static partial void BaselineTaken(ILogger logger, double requests, double? latencySeconds, double errorRate, double? originCallsPerRequest);

    [LoggerMessage(EvaluationFailedId, LogLevel.Error, "A rollout guard evaluation failed")]
    public static partial void EvaluationFailed(ILogger logger, Exception exception);

    [LoggerMessage(PanelChangeId, LogLevel.Information, "Control panel {Action} (scope {Scope}): the Api answered {StatusCode}")]
    public static partial void PanelChange(ILogger logger, string action, string? scope, int statusCode);

    [LoggerMessage(PanelKeyRejectedId, LogLevel.Warning, "Control panel call to {Path} rejected: missing or wrong API key")]
    public static partial void PanelKeyRejected(ILogger logger, string path);

    [LoggerMessage(BaselineSaveFailedId, LogLevel.Error, "The rollout baseline could not be written to {Path}")]
    public static partial void BaselineSaveFailed(ILogger logger, string path, Exception exception);
}
