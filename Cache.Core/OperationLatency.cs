namespace OptimizedCache.Cache.Core;

/// <summary>Latency percentiles of one operation and tier, from a fixed-bucket histogram (upper bucket bounds).</summary>
public sealed record OperationLatency
{
    /// <summary>Operations measured.</summary>
    public long Count { get; init; }

    /// <summary>Median (upper bound of its bucket).</summary>
    public TimeSpan P50 { get; init; }

    /// <summary>95th percentile (upper bound of its bucket).</summary>
    public TimeSpan P95 { get; init; }
}
