using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Log messages of Cache.Core; this part holds the L2 ones (event ids 4200–4299). Keys never appear.</summary>
internal static partial class Log
{
    public const int L2CircuitOpenedId = 4201;
    public const int L2CircuitClosedId = 4202;
    public const int L2CallFailedId = 4203;
    public const int L2ConnectingId = 4204;
    public const int L2ConnectFailedId = 4205;
    public const int L2EventHandlerFailedId = 4206;
    public const int L2EntryUnreadableId = 4207;
    public const int L2WriteSkippedId = 4208;
    public const int L2StalledId = 4209;

    [LoggerMessage(L2StalledId, LogLevel.Warning, "Redis answered no command for the stall threshold of the last {WindowMs} ms (calls timed out); opening the L2 circuit.")]
    public static partial void L2Stalled(ILogger logger, long windowMs);

    [LoggerMessage(L2CircuitOpenedId, LogLevel.Warning, "L2 circuit opened for {BreakMs} ms after repeated failures (last: {Error}); the cache serves from L1 and the factory meanwhile.")]
    public static partial void L2CircuitOpened(ILogger logger, long breakMs, string error);

    [LoggerMessage(L2CircuitClosedId, LogLevel.Information, "L2 circuit closed; Redis is used again.")]
    public static partial void L2CircuitClosed(ILogger logger);

    [LoggerMessage(L2CallFailedId, LogLevel.Debug, "L2 {Operation} failed ({ErrorType}: {Error}); treated as unavailable.")]
    public static partial void L2CallFailed(ILogger logger, string operation, string errorType, string error);

    [LoggerMessage(L2ConnectingId, LogLevel.Information, "L2 Redis client for {Endpoint} created ({State}).")]
    public static partial void L2Connecting(ILogger logger, string endpoint, string state);

    [LoggerMessage(L2ConnectFailedId, LogLevel.Error, "L2 Redis client for {Endpoint} could not be created ({ErrorType}: {Error}); the cache runs on L1 only.")]
    public static partial void L2ConnectFailed(ILogger logger, string endpoint, string errorType, string error);

    [LoggerMessage(L2EventHandlerFailedId, LogLevel.Error, "An L2 connection or circuit event handler failed.")]
    public static partial void L2EventHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(L2EntryUnreadableId, LogLevel.Warning, "An L2 {DataType} entry could not be read ({Reason}); counted as a miss.")]
    public static partial void L2EntryUnreadable(ILogger logger, string dataType, string reason);

    [LoggerMessage(L2WriteSkippedId, LogLevel.Warning, "An L2 {DataType} entry was not written ({Reason}).")]
    public static partial void L2WriteSkipped(ILogger logger, string dataType, string reason);
}
