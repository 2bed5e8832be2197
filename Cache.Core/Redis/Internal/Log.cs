using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>Log messages of the Redis client. Never logs keys, values or the password.</summary>
internal static partial class Log
{
    public const int ConnectedId = 1100;
    public const int ConnectFailedId = 1101;
    public const int ConnectionLostId = 1102;
    public const int ReconnectingId = 1103;
    public const int RestoredId = 1104;
    public const int ProtocolErrorId = 1105;
    public const int DeadPeerId = 1106;
    public const int HandlerFailedId = 1107;
    public const int EventHandlerFailedId = 1108;
    public const int ResubscribedId = 1109;

    [LoggerMessage(ConnectedId, LogLevel.Information, "Redis {Role} connection to {Endpoint} established")]
    public static partial void Connected(ILogger logger, string role, string endpoint);

    [LoggerMessage(ConnectFailedId, LogLevel.Warning, "Redis {Role} connection to {Endpoint} failed: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string role, string endpoint, string reason);

    [LoggerMessage(ConnectionLostId, LogLevel.Warning, "Redis {Role} connection to {Endpoint} lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string role, string endpoint, string reason);

    [LoggerMessage(ReconnectingId, LogLevel.Debug, "Redis {Role} reconnect attempt {Attempt} in {DelayMs} ms")]
    public static partial void Reconnecting(ILogger logger, string role, int attempt, long delayMs);

    [LoggerMessage(RestoredId, LogLevel.Information, "Redis {Role} connection to {Endpoint} restored after {DownMs} ms")]
    public static partial void Restored(ILogger logger, string role, string endpoint, long downMs);

    [LoggerMessage(ProtocolErrorId, LogLevel.Error, "Redis protocol error from {Endpoint}; resetting the connection: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string endpoint, string reason);

    [LoggerMessage(DeadPeerId, LogLevel.Warning, "Redis {Endpoint} sent nothing for {SilentMs} ms while commands waited; declaring the connection dead")]
    public static partial void DeadPeer(ILogger logger, string endpoint, long silentMs);

    [LoggerMessage(HandlerFailedId, LogLevel.Error, "A Redis subscription handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventHandlerFailedId, LogLevel.Error, "A Redis connection event handler threw")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(ResubscribedId, LogLevel.Information, "Redis subscriptions restored: {Channels} channels, {Patterns} patterns")]
    public static partial void Resubscribed(ILogger logger, int channels, int patterns);
}
