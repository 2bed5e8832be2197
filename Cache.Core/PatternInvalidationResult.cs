namespace OptimizedCache.Cache.Core;

/// <summary>What <see cref="OptimizedHybridCache.InvalidateAsync"/> removed.</summary>
/// <param name="L1Removed">Entries removed from this instance's L1 (other replicas remove theirs when the message reaches them).</param>
/// <param name="L2Removed">Keys unlinked from Redis; 0 when Redis was unavailable (the removal is then queued and replayed).</param>
public readonly record struct PatternInvalidationResult(int L1Removed, long L2Removed)
{
    /// <summary>Entries removed from L1 and L2 together.</summary>
    public long Total => L1Removed + L2Removed;
}
