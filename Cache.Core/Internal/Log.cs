using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Log messages of the cache. Keys and values never appear in them (they may hold personal data).</summary>
internal static partial class Log
{
    public const int PayloadTooLargeId = 1001;
    public const int SerializationFailedId = 1002;
    public const int FactoryFailedStaleServedId = 1003;
    public const int EagerRefreshFailedId = 1004;
    public const int MemoryPressureChangedId = 1005;
    public const int MaintenanceFailedId = 1006;
    public const int DeserializationFailedId = 1007;

    [LoggerMessage(PayloadTooLargeId, LogLevel.Warning, "A {DataType} value exceeds MaximumPayloadBytes ({Limit}); it was returned but not cached.")]
    public static partial void PayloadTooLarge(this ILogger logger, string dataType, long limit);

    [LoggerMessage(SerializationFailedId, LogLevel.Warning, "A {DataType} value of type {ValueType} failed to serialize; it was returned but not cached.")]
    public static partial void SerializationFailed(this ILogger logger, Exception exception, string dataType, string valueType);

    [LoggerMessage(FactoryFailedStaleServedId, LogLevel.Warning, "The factory of a {DataType} entry failed; an expired value (fail-safe) was served instead.")]
    public static partial void FactoryFailedStaleServed(this ILogger logger, Exception exception, string dataType);

    [LoggerMessage(EagerRefreshFailedId, LogLevel.Warning, "The background refresh of a {DataType} entry failed; the current value stays until it expires.")]
    public static partial void EagerRefreshFailed(this ILogger logger, Exception exception, string dataType);

    [LoggerMessage(MemoryPressureChangedId, LogLevel.Information, "Memory pressure {State}: L1 budget {BudgetBytes} bytes (memory load {LoadBytes} of {ThresholdBytes} bytes).")]
    public static partial void MemoryPressureChanged(this ILogger logger, string state, long budgetBytes, long loadBytes, long thresholdBytes);

    [LoggerMessage(MaintenanceFailedId, LogLevel.Error, "L1 maintenance (sweep or memory check) failed.")]
    public static partial void MaintenanceFailed(this ILogger logger, Exception exception);

    [LoggerMessage(DeserializationFailedId, LogLevel.Warning, "A cached {DataType} value of type {ValueType} failed to deserialize; it was dropped and treated as a miss.")]
    public static partial void DeserializationFailed(this ILogger logger, Exception exception, string dataType, string valueType);
}
