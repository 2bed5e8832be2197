namespace OptimizedCache.Api;

/// <summary>The API's log messages. Never a cache key, a value or the admin key.</summary>
internal static partial class Log
{
    public const int RolloutChangedId = 6001, RolloutAppliedId = 6002, RolloutStoreFailedId = 6003, RolloutNotPersistedId = 6004,
        RolloutStoreRecoveredId = 6005, RolloutPlanMismatchId = 6006, RolloutReassertedId = 6007, CacheReadFailedId = 6010, InvalidationFailedId = 6011,
        AdminDisabledId = 6020, AdminRejectedId = 6021, OriginChangedId = 6030, CacheClearedId = 6031;

    [LoggerMessage(RolloutChangedId, LogLevel.Warning, "Rollout {Action}: phase {From} -> {To} by {Actor}: {Reason}")]
    public static partial void RolloutChanged(ILogger logger, string action, int from, int to, string actor, string reason);

    [LoggerMessage(RolloutAppliedId, LogLevel.Information, "Rollout phase {From} -> {To} applied from the {Source}")]
    public static partial void RolloutApplied(ILogger logger, int from, int to, string source);

    [LoggerMessage(RolloutStoreFailedId, LogLevel.Warning, "The rollout state store is unreachable; the phase in force stays")]
    public static partial void RolloutStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(RolloutNotPersistedId, LogLevel.Error, "Phase {Phase} applies on this replica only: the rollout state store is unreachable; it is stored when the store returns")]
    public static partial void RolloutNotPersisted(ILogger logger, int phase, Exception exception);

    [LoggerMessage(RolloutStoreRecoveredId, LogLevel.Warning, "Phase {Phase}, changed while the store was unreachable, is now stored and published")]
    public static partial void RolloutStoreRecovered(ILogger logger, int phase);

    [LoggerMessage(RolloutReassertedId, LogLevel.Warning, "The store had lost the rollout state; phase {Phase} (version {Version}) is stored and published again")]
    public static partial void RolloutReasserted(ILogger logger, int phase, long version);

    [LoggerMessage(RolloutPlanMismatchId, LogLevel.Warning, "The stored rollout state refers to plan {StoredPlan}; this replica uses plan {Plan}")]
    public static partial void RolloutPlanMismatch(ILogger logger, string storedPlan, string plan);

    [LoggerMessage(CacheReadFailedId, LogLevel.Warning, "The cache failed on {Endpoint}; the request goes to the origin")]
    public static partial void CacheReadFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(InvalidationFailedId, LogLevel.Error, "Invalidation after a {Entity} change failed")]
    public static partial void InvalidationFailed(ILogger logger, string entity, Exception exception);

    [LoggerMessage(AdminDisabledId, LogLevel.Warning, "Admin:ApiKey is not configured: every /admin call is refused")]
    public static partial void AdminDisabled(ILogger logger);

    [LoggerMessage(AdminRejectedId, LogLevel.Warning, "Admin call to {Path} refused: missing or wrong API key")]
    public static partial void AdminRejected(ILogger logger, string path);

    [LoggerMessage(OriginChangedId, LogLevel.Warning, "Origin behaviour changed by {Actor}: {Behavior}")]
    public static partial void OriginChanged(ILogger logger, string actor, string behavior);

    [LoggerMessage(CacheClearedId, LogLevel.Warning, "Cache cleared by {Actor}: {Reason}")]
    public static partial void CacheCleared(ILogger logger, string actor, string reason);
}
