using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The L2 seam of <see cref="OptimizedHybridCache"/>: what the read path (steps 4 to 6 of the architecture) and the
/// write and invalidation paths ask of the distributed tier. Payloads crossing it are the serialized values; the
/// tier owns the envelope, compression, adaptive TTL and Redis. When no Redis connection is configured there is no
/// tier at all (the field is null and every L2 step is skipped), never a stand-in.
/// </summary>
internal interface IDistributedCacheTier
{
    /// <summary>Reads an entry; null when absent, expired, invalidated by a tag, or undecodable (counted by the tier).</summary>
    ValueTask<DistributedCacheHit?> GetAsync(string key, int dataType, CancellationToken cancellationToken);

    /// <summary>Writes an entry with its tags and the overall expiration.</summary>
    ValueTask SetAsync(string key, ReadOnlyMemory<byte> payload, int dataType, TimeSpan expiration, string[] tags, HybridCacheEntryFlags flags, CancellationToken cancellationToken);

    /// <summary>Removes an entry everywhere (L2, and other replicas' L1 through the invalidation channel).</summary>
    ValueTask RemoveAsync(string key, CancellationToken cancellationToken);

    /// <summary>Records a tag invalidation (or <c>*</c>) everywhere.</summary>
    ValueTask RemoveByTagAsync(string tag, long timestampUtcTicks, CancellationToken cancellationToken);
}

/// <summary>An L2 hit: the serialized value, when it expires overall, and its tags and creation time.</summary>
internal sealed record DistributedCacheHit(ReadOnlyMemory<byte> Payload, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt, string[] Tags);
