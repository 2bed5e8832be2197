namespace OptimizedCache.Cache.Core;

/// <summary>Counters and latencies since start-up (<see cref="OptimizedHybridCache.GetPerformanceStats"/>).</summary>
public sealed record CachePerformanceStats
{
    /// <summary>Lookups answered by L1.</summary>
    public long L1Hits { get; init; }

    /// <summary>Lookups L1 could not answer (absent, expired, invalidated or of another type).</summary>
    public long L1Misses { get; init; }

    /// <summary>L1 misses answered by L2.</summary>
    public long L2Hits { get; init; }

    /// <summary>L1 misses L2 could not answer (including undecodable entries).</summary>
    public long L2Misses { get; init; }

    /// <summary>Hits of any tier over lookups.</summary>
    public double HitRate { get; init; }

    /// <summary>Factory (origin) calls that returned a value.</summary>
    public long FactoryCalls { get; init; }

    /// <summary>Factory calls that threw.</summary>
    public long FactoryErrors { get; init; }

    /// <summary>Expired values served because the factory failed (fail-safe).</summary>
    public long StaleServed { get; init; }

    /// <summary>Background refreshes started because a read came late in an entry's life.</summary>
    public long EagerRefreshes { get; init; }

    /// <summary>Values returned but not cached because their serialized size exceeded the payload limit.</summary>
    public long PayloadsTooLarge { get; init; }

    /// <summary>Values returned but not cached because they failed to serialize.</summary>
    public long SerializationFailures { get; init; }

    /// <summary>Entries that left L1, by reason (<c>capacity</c>, <c>expired</c>, <c>memory_pressure</c>, <c>removed</c>).</summary>
    public IReadOnlyDictionary<string, long> Evictions { get; init; } = new Dictionary<string, long>();

    /// <summary>Hits and misses by data type (from the key prefix).</summary>
    public IReadOnlyDictionary<string, DataTypeStats> ByDataType { get; init; } = new Dictionary<string, DataTypeStats>();

    /// <summary>Latency percentiles by <c>operation/tier</c> (for example <c>get/l1</c>, <c>get/origin</c>, <c>set/l1</c>).</summary>
    public IReadOnlyDictionary<string, OperationLatency> Operations { get; init; } = new Dictionary<string, OperationLatency>();
}
