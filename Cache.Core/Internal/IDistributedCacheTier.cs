using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The L2 seam of <see cref="OptimizedHybridCache"/>: what the read path (steps 4 to 6 of the architecture) and the
/// write and invalidation paths ask of the distributed tier. Payloads crossing it are the serialized values; the
/// tier owns the envelope, compression, adaptive TTL and Redis. When no Redis connection is configured there is no
/// tier at all (the field is null and every L2 step is skipped), never a stand-in. No member throws because Redis
/// is down: reads miss, writes are skipped, removals report that they did not reach Redis.
/// </summary>
internal interface IDistributedCacheTier
{
    /// <summary>Reads an entry; null when absent, expired, invalidated by a tag, undecodable (counted by the tier) or Redis is unavailable.</summary>
    ValueTask<DistributedCacheHit?> GetAsync(string key, int dataType, CancellationToken cancellationToken);

    /// <summary>
    /// Writes an entry with its tags. <paramref name="expiration"/> is the overall expiration (the adaptive TTL's
    /// base); <paramref name="explicitExpiration"/> says the caller gave it per call (then it is the upper bound).
    /// <paramref name="createdAt"/> is when the value was asked for (tag invalidations after it void the entry).
    /// <paramref name="overwrite"/> marks an explicit SetAsync (not a factory result): writes of values read before
    /// <paramref name="createdAt"/> are then refused, as after a removal.
    /// </summary>
    ValueTask SetAsync(
        string key, ReadOnlyMemory<byte> payload, int dataType, TimeSpan expiration, bool explicitExpiration, string[] tags,
        DateTimeOffset createdAt, HybridCacheEntryFlags flags, bool overwrite, CancellationToken cancellationToken);

    /// <summary>Removes an entry from L2; false when Redis could not be reached.</summary>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken);

    /// <summary>Records a tag invalidation (or <c>*</c>) at <paramref name="unixMilliseconds"/> in L2; false when Redis could not be reached.</summary>
    ValueTask<bool> RemoveByTagAsync(string tag, long unixMilliseconds, CancellationToken cancellationToken);
}

/// <summary>An L2 hit: the serialized value, when it expires overall, and its tags and creation time.</summary>
internal sealed record DistributedCacheHit(ReadOnlyMemory<byte> Payload, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt, string[] Tags);
