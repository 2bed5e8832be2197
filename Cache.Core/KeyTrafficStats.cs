namespace OptimizedCache.Cache.Core;

/// <summary>
/// One of the keys with the most traffic (Space-Saving estimate over a bounded set). Keys appear here only, never
/// in logs or metrics.
/// </summary>
public sealed record KeyTrafficStats
{
    /// <summary>The cache key.</summary>
    public required string Key { get; init; }

    /// <summary>Estimated lookups (may overcount by at most <see cref="ErrorBound"/>; L1 hits are sampled under contention).</summary>
    public long Requests { get; init; }

    /// <summary>Lookups answered by a cache tier since the key entered the tracked set.</summary>
    public long Hits { get; init; }

    /// <summary>How much <see cref="Requests"/> may overcount (inherited from the key it displaced).</summary>
    public long ErrorBound { get; init; }

    /// <summary>Hits over the lookups observed since the key entered the tracked set.</summary>
    public double HitRate => Requests - ErrorBound <= 0 ? 0 : Math.Min(1, (double)Hits / (Requests - ErrorBound));
}
