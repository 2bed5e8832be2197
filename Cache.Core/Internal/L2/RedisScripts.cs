namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The Lua scripts of the L2 tier. Every script's keys lie in one hash slot (a bucket's <c>{tag}</c>, see
/// <see cref="RedisDistributedTier"/>), so they run unchanged on a Redis Cluster.
/// </summary>
internal static class RedisScripts
{
    // Shared by the removal scripts: forget tombstones older than the window; past the cap, fold the oldest into the
    // floor (the latest time among those dropped; writes read before it are refused) so the set stays bounded.
    private const string TrimTombstones = """
        local function trim(zset, floorKey, now, window, cap)
          redis.call('ZREMRANGEBYSCORE', zset, '-inf', '(' .. string.format('%.0f', now - window))
          local excess = redis.call('ZCARD', zset) - cap
          if excess > 0 then
            local last = redis.call('ZRANGE', zset, excess - 1, excess - 1, 'WITHSCORES')
            local floor = tonumber(redis.call('GET', floorKey) or '0') or 0
            if tonumber(last[2]) > floor then
              redis.call('SET', floorKey, last[2], 'PX', window)
            end
            redis.call('ZREMRANGEBYRANK', zset, 0, excess - 1)
          end
          redis.call('PEXPIRE', zset, window)
        end
        """;

    /// <summary>
    /// KEYS: the entries (one bucket), then the bucket's key tombstone set and floor. ARGV: now (Unix ms), window (ms),
    /// cap, then the cache keys (tombstone members) in the entries' order. The tombstones and the UNLINK are one
    /// atomic step: no conditional write can land between them. Returns how many entries existed.
    /// </summary>
    public const string RemoveWithTombstones = TrimTombstones + "\n" + """
        local n = #KEYS - 2
        local zset, floorKey, now = KEYS[n + 1], KEYS[n + 2], tonumber(ARGV[1])
        for i = 1, n do
          local current = redis.call('ZSCORE', zset, ARGV[i + 3])
          if not current or tonumber(current) < now then
            redis.call('ZADD', zset, ARGV[1], ARGV[i + 3])
          end
        end
        local unlinked = redis.call('UNLINK', unpack(KEYS, 1, n))
        trim(zset, floorKey, now, tonumber(ARGV[2]), tonumber(ARGV[3]))
        return unlinked
        """;

    /// <summary>
    /// KEYS: pattern tombstone set, pattern floor, pattern sequence. ARGV: pattern, now (Unix ms), window (ms), cap.
    /// Returns { new sequence, pattern floor }: the caller then raises every bucket's sequence and floor to them.
    /// </summary>
    public const string RecordPattern = TrimTombstones + "\n" + """
        local now = tonumber(ARGV[2])
        local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not current or tonumber(current) < now then
          redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        end
        trim(KEYS[1], KEYS[2], now, tonumber(ARGV[3]), tonumber(ARGV[4]))
        return { redis.call('INCR', KEYS[3]), redis.call('GET', KEYS[2]) or '0' }
        """;

    /// <summary>
    /// KEYS: a bucket's pattern sequence and floor. ARGV: sequence, floor (Unix ms), window (ms). Raises both, never
    /// lowers them: a conditional write in the bucket checked against an older pattern sequence is then refused.
    /// </summary>
    public const string RaiseBucket = """
        local seq = tonumber(ARGV[1])
        if seq > (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
        end
        local floor = tonumber(ARGV[2])
        if floor > 0 and floor > (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) then
          redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        end
        return 1
        """;

    /// <summary>KEYS: pattern tombstone set, pattern sequence. Returns { sequence, { pattern, time, pattern, time, ... } }.</summary>
    public const string ReadPatterns = """
        return { redis.call('GET', KEYS[2]) or '0', redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
        """;

    /// <summary>
    /// KEYS: entry, the bucket's key tombstone set, floor and pattern sequence. ARGV: value, ttl (ms), read start
    /// (Unix ms), cache key, the pattern sequence the caller checked the key against, overwrite (1 or 0), tombstone
    /// window (ms), cap. Writes only if nothing removed the key since the read started; see
    /// <see cref="ResilientRedis.WriteOutcome"/> for the replies. An overwrite (an explicit SetAsync) also records a key
    /// tombstone at its own start, after the checks: a value read from the origin before it and written back later is
    /// refused like one read before a removal. Against a key tombstone an overwrite is refused only when strictly
    /// older, so two overwrites in the same millisecond both land (the later one wins). The bucket's sequence lags the
    /// global one until the recorder raises it; a write whose snapshot is newer than the bucket's is current.
    /// </summary>
    public const string SetUnlessRemoved = TrimTombstones + "\n" + """
        local created = tonumber(ARGV[3])
        local overwrite = ARGV[6] == '1'
        local floor = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
        if created <= floor then return -2 end
        local removed = redis.call('ZSCORE', KEYS[2], ARGV[4])
        if removed and (created < tonumber(removed) or (created == tonumber(removed) and not overwrite)) then return -1 end
        if (tonumber(redis.call('GET', KEYS[4]) or '0') or 0) > tonumber(ARGV[5]) then return -3 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if overwrite then
          if not removed or tonumber(removed) < created then
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
          end
          trim(KEYS[2], KEYS[3], created, tonumber(ARGV[7]), tonumber(ARGV[8]))
        end
        return 1
        """;

    /// <summary>Moves a tag's invalidation time forward only (a late writer never rewinds it) and refreshes its expiry.</summary>
    public const string AdvanceTagTime = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
        local proposed = tonumber(ARGV[1])
        if proposed > current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return proposed
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return current
        """;
}
