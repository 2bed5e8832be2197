using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Log messages of Cache.Core; this part holds the invalidation and coherence ones (event ids 4300–4399).</summary>
internal static partial class Log
{
    public const int InvalidationQueueOverflowedId = 4301;
    public const int InvalidationsReplayedId = 4302;
    public const int InvalidationReplayFailedId = 4303;
    public const int InvalidationSubscribeFailedId = 4304;
    public const int CoherenceFlushId = 4305;
    public const int MalformedInvalidationMessageId = 4306;
    public const int InvalidationMessageFailedId = 4307;
    public const int PrimaryChangedId = 4308;

    [LoggerMessage(InvalidationQueueOverflowedId, LogLevel.Warning,
        "More than {Capacity} invalidations are waiting for Redis; the queue was replaced by a global invalidation that every replica applies when Redis is back.")]
    public static partial void InvalidationQueueOverflowed(this ILogger logger, int capacity);

    [LoggerMessage(InvalidationsReplayedId, LogLevel.Information, "Replayed {Count} invalidations queued while Redis was unavailable.")]
    public static partial void InvalidationsReplayed(this ILogger logger, int count);

    [LoggerMessage(InvalidationReplayFailedId, LogLevel.Error, "Replaying queued invalidations failed; it is retried on the next reconnect or invalidation.")]
    public static partial void InvalidationReplayFailed(this ILogger logger, Exception exception);

    [LoggerMessage(InvalidationSubscribeFailedId, LogLevel.Warning, "Could not subscribe to the invalidation channel yet ({ErrorType}); retrying until Redis is reachable.")]
    public static partial void InvalidationSubscribeFailed(this ILogger logger, string errorType);

    [LoggerMessage(CoherenceFlushId, LogLevel.Information, "Invalidation messages may have been missed (Redis connection lost and restored); L1 was flushed ({Removed} entries).")]
    public static partial void CoherenceFlush(this ILogger logger, int removed);

    [LoggerMessage(MalformedInvalidationMessageId, LogLevel.Warning, "A malformed invalidation message ({Bytes} bytes) was ignored.")]
    public static partial void MalformedInvalidationMessage(this ILogger logger, int bytes);

    [LoggerMessage(PrimaryChangedId, LogLevel.Warning,
        "A Redis primary changed (failover, restart or a new node): entries written before now are treated as invalidated, since removals acknowledged by the former primary may be lost.")]
    public static partial void PrimaryChanged(this ILogger logger);

    [LoggerMessage(InvalidationMessageFailedId, LogLevel.Error, "Applying an invalidation message failed.")]
    public static partial void InvalidationMessageFailed(this ILogger logger, Exception exception);
}
