using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

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
    /// The first half of <see cref="GetAsync"/>, for the read path, which awaits the reply in its own state machine so
    /// that an L2 hit suspends once: sends the GET when it can go straight out (circuit closed). When nothing was sent
    /// (<see cref="L2PendingGet.IsSent"/> false: Redis unavailable, or the breaker must let the call through) the caller
    /// uses <see cref="GetAsync"/> instead. A sent GET must be awaited and passed to <see cref="EndGetAsync"/>.
    /// </summary>
    L2PendingGet BeginGet(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The second half of <see cref="GetAsync"/>: the reply of a GET sent by <see cref="BeginGet"/>, or the exception its
    /// await threw, with the <see cref="L2PendingGet.SentAt"/> of the send (the breaker's stall rule weighs the wait).
    /// Completes synchronously unless a tag time has to be read from Redis.
    /// </summary>
    ValueTask<DistributedCacheHit?> EndGetAsync(RedisValue reply, Exception? failure, long sentAt, int dataType, CancellationToken cancellationToken);

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

/// <summary>
/// An L2 hit: the serialized value, when it expires overall, and its tags and creation time; and the cache clock's
/// readings taken when it was decoded (UTC and timestamp, read together), which the read path reuses instead of
/// reading the clock again.
/// </summary>
internal readonly record struct DistributedCacheHit(
    ReadOnlyMemory<byte> Payload, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt, string[] Tags, DateTimeOffset ReadAt, long ReadAtTimestamp,
    byte[]? Lease = null);

/// <summary>A GET sent by <see cref="IDistributedCacheTier.BeginGet"/>: the pending reply, when one was sent.</summary>
internal readonly struct L2PendingGet(ValueTask<RedisValue> reply, long sentAt)
{
    /// <summary>Whether a GET was sent (then <see cref="Reply"/> must be awaited); false for default.</summary>
    public bool IsSent { get; } = true;

    /// <summary>The reply to await (await it exactly once).</summary>
    public ValueTask<RedisValue> Reply { get; } = reply;

    /// <summary>When the GET was sent (a timestamp of the Redis tier's clock), for <see cref="IDistributedCacheTier.EndGetAsync"/>.</summary>
    public long SentAt { get; } = sentAt;
}
