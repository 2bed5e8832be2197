namespace OptimizedCache.Cache.Core;

/// <summary>
/// Names of the <c>OptimizedCache</c> meter, its instruments, tags and tag values (docs/metrics.md). Tag values come
/// from bounded sets; no tag ever carries a cache key.
/// </summary>
public static class OptimizedCacheMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "OptimizedCache";

    /// <summary>Counter of lookups by <see cref="TierTag"/>, <see cref="ResultTag"/> and <see cref="DataTypeTag"/>.</summary>
    public const string Requests = "optimizedcache.requests";

    /// <summary>Counter of factory (origin) calls by <see cref="DataTypeTag"/> and <see cref="OutcomeTag"/>.</summary>
    public const string FactoryCalls = "optimizedcache.factory.calls";

    /// <summary>Counter of expired values served because the factory failed (fail-safe), by <see cref="DataTypeTag"/>.</summary>
    public const string StaleServed = "optimizedcache.stale.served";

    /// <summary>Counter of entries leaving L1, by <see cref="ReasonTag"/>.</summary>
    public const string Evictions = "optimizedcache.evictions";

    /// <summary>Gauge of the estimated bytes held by L1.</summary>
    public const string L1Size = "optimizedcache.l1.size";

    /// <summary>Gauge of the L1 byte budget.</summary>
    public const string L1Budget = "optimizedcache.l1.budget";

    /// <summary>Gauge of the number of L1 entries.</summary>
    public const string L1Entries = "optimizedcache.l1.entries";

    /// <summary>Counter of bytes given to a codec, by <see cref="CodecTag"/>.</summary>
    public const string CompressionInput = "optimizedcache.compression.input";

    /// <summary>Counter of bytes a codec produced, by <see cref="CodecTag"/>.</summary>
    public const string CompressionOutput = "optimizedcache.compression.output";

    /// <summary>Histogram of operation durations in seconds, by <see cref="OperationTag"/> and <see cref="TierTag"/>.</summary>
    public const string OperationDuration = "optimizedcache.operation.duration";

    /// <summary>Counter of failed L2 calls, by <see cref="OperationTag"/>.</summary>
    public const string L2Errors = "optimizedcache.l2.errors";

    /// <summary>Gauge of the L2 circuit breaker: 0 closed, 1 half-open, 2 open.</summary>
    public const string L2CircuitState = "optimizedcache.l2.circuit.state";

    /// <summary>
    /// Counter of L2 entries read but unusable (counted as misses), by <see cref="ReasonTag"/>: <c>corrupt</c>,
    /// <c>unknown_version</c>, <c>unknown_codec</c>, <c>codec_unavailable</c>, <c>too_large</c>, <c>decompression_failed</c>.
    /// </summary>
    public const string L2Unreadable = "optimizedcache.l2.unreadable";

    /// <summary>
    /// Counter of L2 writes refused because a removal overtook the value's read, by <see cref="ReasonTag"/>:
    /// <c>key</c> (a key tombstone), <c>pattern</c> (a recorded pattern invalidation), <c>overflow</c> (the floor the
    /// oldest tombstones fold into), <c>window</c> (the read started longer ago than the tombstone window).
    /// </summary>
    public const string L2StaleWritesRefused = "optimizedcache.l2.stale_writes_refused";

    /// <summary>Counter of invalidations by <see cref="KindTag"/> and <see cref="SourceTag"/>.</summary>
    public const string Invalidations = "optimizedcache.invalidations";

    /// <summary>Tag: <c>l1</c> or <c>l2</c> (requests); <c>l1</c>, <c>l2</c> or <c>origin</c> (durations).</summary>
    public const string TierTag = "tier";

    /// <summary>Tag: <c>hit</c> or <c>miss</c>.</summary>
    public const string ResultTag = "result";

    /// <summary>Tag: the data type from the key prefix (configured set, or <c>other</c>).</summary>
    public const string DataTypeTag = "data_type";

    /// <summary>Tag: <c>success</c> or <c>error</c>.</summary>
    public const string OutcomeTag = "outcome";

    /// <summary>Tag: <c>capacity</c>, <c>expired</c>, <c>memory_pressure</c> or <c>removed</c>.</summary>
    public const string ReasonTag = "reason";

    /// <summary>Tag: the codec name (<c>lz4</c>, <c>zstd</c>, <c>brotli</c>, <c>deflate</c>), or <c>none</c> for values stored raw.</summary>
    public const string CodecTag = "codec";

    /// <summary>Tag: <c>get</c>, <c>set</c>, <c>remove</c> or <c>invalidate</c>.</summary>
    public const string OperationTag = "operation";

    /// <summary>Tag: <c>key</c>, <c>tag</c>, <c>pattern</c> or <c>all</c>.</summary>
    public const string KindTag = "kind";

    /// <summary>Tag: <c>local</c> or <c>remote</c>.</summary>
    public const string SourceTag = "source";

    /// <summary>Data type of keys that match no configured prefix.</summary>
    public const string OtherDataType = "other";

    /// <summary>Histogram bucket boundaries for latencies, in seconds.</summary>
    public static IReadOnlyList<double> LatencyBuckets { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
