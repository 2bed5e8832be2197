using System.Collections.Concurrent;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// What this replica knows of the tag invalidation times stored in Redis (<c>{prefix}:tag:{tag}</c>, Unix ms), so
/// that checking an L2 entry against its tags costs no round trip while the times are fresh. Redis holds the truth
/// shared by replicas; this is a read-through copy with a refresh interval, bounded in count. Every time it learns a
/// later time than it knew (a read, a local invalidation, a remote one), it reports it, so the L1
/// <see cref="TagInvalidationTable"/> follows the same times.
/// </summary>
internal sealed class TagTimeCache(ResilientRedis redis, string keyPrefix, TimeSpan refreshInterval, int capacity, TimeSpan retention, TimeProvider time, Action<string, long> onLaterTime)
{
    private readonly ConcurrentDictionary<string, Known> _known = new(StringComparer.Ordinal);
    private readonly long _refreshTicks = (long)(refreshInterval.TotalSeconds * time.TimestampFrequency);
    private readonly Lock _trimLock = new();

    /// <summary>How many tag times are held.</summary>
    public int Count => _known.Count;

    /// <summary>The Redis key holding a tag's invalidation time.</summary>
    public string RedisKey(string tag) => $"{keyPrefix}:tag:{tag}";

    /// <summary>
    /// Whether an entry created at <paramref name="createdAtUnixMs"/> with <paramref name="tags"/> was invalidated
    /// (by one of its tags, or by <c>*</c>). Times older than the refresh interval are read again from Redis in one
    /// MGET; when Redis cannot answer, the entry counts as invalidated: it cannot be vouched for. Completes
    /// synchronously when every time needed is fresh (the common case).
    /// </summary>
    /// <param name="tags">The entry's tags.</param>
    /// <param name="createdAtUnixMs">When the entry was created.</param>
    /// <param name="now">The current <see cref="TimeProvider.GetTimestamp"/> of the cache's clock (the caller has just read it).</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    public ValueTask<bool> IsInvalidatedAsync(IReadOnlyList<string> tags, long createdAtUnixMs, long now, CancellationToken cancellationToken)
    {
        List<string>? stale = null;
        if (Check(TagInvalidationTable.Wildcard, createdAtUnixMs, now, ref stale))
        {
            return new ValueTask<bool>(true);
        }

        for (var i = 0; i < tags.Count; i++)
        {
            if (Check(tags[i], createdAtUnixMs, now, ref stale))
            {
                return new ValueTask<bool>(true);
            }
        }

        return stale is null ? new ValueTask<bool>(false) : FetchAsync(stale, createdAtUnixMs, cancellationToken);
    }

    private async ValueTask<bool> FetchAsync(List<string> stale, long createdAtUnixMs, CancellationToken cancellationToken)
    {
        var keys = new string[stale.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = RedisKey(stale[i]);
        }

        var read = await redis.GetTagTimesAsync(keys, cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            return true;
        }

        var now = time.GetTimestamp();
        var invalid = false;
        for (var i = 0; i < keys.Length; i++)
        {
            var learned = Learn(stale[i], read.Value[i] ?? 0, now);
            invalid |= createdAtUnixMs <= learned;
        }

        Trim();
        return invalid;
    }

    /// <summary>
    /// Records a tag invalidation time known without reading Redis (this replica's own <c>RemoveByTagAsync</c>, or
    /// one received from another replica). It only ever moves a tag's time forward.
    /// </summary>
    public void Apply(string tag, long unixMilliseconds)
    {
        Learn(tag, unixMilliseconds, time.GetTimestamp());
        Trim();
    }

    /// <summary>
    /// Writes a tag's invalidation time to Redis (moving it forward only) and records what Redis now holds.
    /// Returns false when Redis could not be reached (the time is still recorded locally).
    /// </summary>
    public async ValueTask<bool> WriteAsync(string tag, long unixMilliseconds, CancellationToken cancellationToken)
    {
        Apply(tag, unixMilliseconds);
        var written = await redis.SetTagTimeAsync(RedisKey(tag), unixMilliseconds, retention, cancellationToken).ConfigureAwait(false);
        if (written.Ok)
        {
            Apply(tag, written.Value);
        }

        return written.Ok;
    }

    /// <summary>The latest time known for a tag (0 when none), for tests and diagnostics.</summary>
    public long KnownTime(string tag) => _known.TryGetValue(tag, out var known) ? known.UnixMs : 0;

    private bool Check(string tag, long createdAtUnixMs, long now, ref List<string>? stale)
    {
        if (_known.TryGetValue(tag, out var known))
        {
            if (createdAtUnixMs <= known.UnixMs)
            {
                return true; // a time only moves forward, so a known one that invalidates stays true
            }

            if (now - known.FetchedAt < _refreshTicks)
            {
                return false;
            }
        }

        (stale ??= []).Add(tag);
        return false;
    }

    private long Learn(string tag, long unixMs, long now)
    {
        long previous = 0;
        var updated = _known.AddOrUpdate(
            tag,
            static (_, s) => new Known(s.unixMs, s.now),
            (_, existing, s) =>
            {
                previous = existing.UnixMs;
                return new Known(Math.Max(existing.UnixMs, s.unixMs), s.now);
            },
            (unixMs, now));
        if (updated.UnixMs > previous && updated.UnixMs > 0)
        {
            onLaterTime(tag, updated.UnixMs);
        }

        return updated.UnixMs;
    }

    // Over capacity: drop the tenth read longest ago (they are re-read from Redis when next needed).
    private void Trim()
    {
        if (_known.Count <= capacity || !_trimLock.TryEnter())
        {
            return;
        }

        try
        {
            var excess = _known.Count - capacity + (capacity / 10);
            foreach (var pair in _known.OrderBy(p => p.Value.FetchedAt).Take(excess))
            {
                if (pair.Key != TagInvalidationTable.Wildcard)
                {
                    _known.TryRemove(pair);
                }
            }
        }
        finally
        {
            _trimLock.Exit();
        }
    }

    private readonly record struct Known(long UnixMs, long FetchedAt);
}
