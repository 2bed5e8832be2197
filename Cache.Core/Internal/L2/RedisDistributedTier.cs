using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Internal.Invalidation;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The L2 tier over Redis: entries at <c>{prefix}:{bb}:{key}</c> as <see cref="CacheValue"/> envelopes around the
/// (adaptively compressed) serialized value, with a PX expiry from the adaptive TTL; tag invalidation times at
/// <c>{prefix}:tag:{tag}</c>, checked lazily when an entry is read. Every Redis call goes through
/// <see cref="ResilientRedis"/>: with Redis down or the circuit open a read is a miss and a write is skipped,
/// never an exception.
/// </summary>
/// <remarks>
/// <para><b>TTL.</b> The base TTL is the entry's overall expiration. When the caller left it to the defaults
/// (<see cref="OptimizedHybridCacheOptions.DefaultEntryOptions"/> or 5 minutes) the adaptive TTL
/// (<see cref="AdaptiveTtlCalculator"/>: data type × access × size × jitter) is applied in full, so hot and small
/// entries live longer and volatile types shorter. An explicit per-call <see cref="HybridCacheEntryOptions.Expiration"/>
/// is a promise to the caller and is honoured as the upper bound: the adaptive TTL may shorten it, never lengthen
/// it. Both are capped by <see cref="OptimizedHybridCacheOptions.L2MaximumExpiration"/>, which is also how long tag
/// times are kept, so no entry outlives the record of its invalidation.</para>
/// <para><b>Reading.</b> Anything but a well-formed, unexpired envelope whose codec works here and whose tags
/// (and <c>*</c>) were not invalidated after it was created is a miss, counted in
/// <c>optimizedcache.l2.unreadable</c> by reason when the bytes themselves were at fault, and logged without the key.</para>
/// <para><b>Keys and buckets.</b> An entry lives at <c>{prefix}:{bb}:{key}</c>, where <c>bb</c> (<c>00</c> to <c>ff</c>,
/// <see cref="BucketOf"/>) is a hash tag: on a Redis Cluster the entry and the removal structures of its bucket share a
/// hash slot, so every conditional write and removal is one script, while the 256 buckets spread over the
/// primaries. Tag times live at <c>{prefix}:tag:{tag}</c> (read with MGET, split by slot on a cluster).</para>
/// <para><b>Removal tombstones.</b> A removal by key is remembered in its bucket for
/// <see cref="OptimizedHybridCacheOptions.RemovalTombstoneWindow"/> (<c>{prefix}#rm:{bb}:keys</c>, a sorted set of key by
/// removal time, bounded; overflow folds into <c>{prefix}#rm:{bb}:floor</c>), and every write is conditional (one
/// script): a value whose read started at or before a removal of its key or the floor is not written, so a replica
/// that has not yet heard of a removal cannot put the old value back. Patterns are recorded once
/// (<c>{prefix}#rm:{p}:patterns</c> with the global sequence <c>{prefix}#rm:{p}:seq</c>), then every bucket's sequence is
/// raised to match before the SCAN starts. Pattern matching happens here, not in Lua: the write carries the sequence
/// this replica checked the key against, and the script refuses it when its bucket's sequence is newer; the replica
/// then re-reads the patterns and tries again. The structure keys use <c>#</c> after the prefix so that no cache key and
/// no invalidation pattern (both under <c>{prefix}:</c>) can reach them.</para>
/// </remarks>
internal sealed class RedisDistributedTier : IDistributedCacheTier, IAsyncDisposable
{
    private const string NoCodec = "none";

    private readonly ResilientRedis _redis;
    private readonly string[] _entryPrefixes; // per bucket: "{prefix}:{bb}:"
    private readonly RemovalKeys[] _removals; // per bucket: its tombstone set, floor and pattern sequence
    private readonly PatternKeys _patternKeys;
    private readonly string[] _dataTypeNames;
    private readonly AdaptiveTtlCalculator _ttl;
    private readonly AdaptiveCompressionPolicy _compression;
    private readonly CompressionCodecRegistry _codecs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _maximumExpiration;
    private readonly Counter<long> _compressionInput;
    private readonly Counter<long> _compressionOutput;
    private readonly Counter<long> _unreadable;
    private readonly string[] _codecNames = new string[256];
    private readonly Counter<long> _staleWritesRefused;
    private readonly TimeSpan _removalWindow;
    private readonly int _removalCapacity;
    private readonly int _patternCapacity;
    // 0 and none: what Redis holds before any pattern invalidation (the sequence key is created with the first)
    private volatile PatternSnapshot _patterns = new(0, []);
    private long _refused;

    /// <summary>The most pattern invalidations Redis remembers (fewer when MaximumRemovalTombstones is smaller).</summary>
    public const int MaximumPatternTombstones = 256;

    /// <summary>Attempts of a conditional write when the pattern sequence keeps moving under it.</summary>
    private const int WriteAttempts = 3;

    public RedisDistributedTier(
        ResilientRedis redis,
        OptimizedHybridCacheOptions options,
        DataTypeClassifier dataTypes,
        CompressionCodecRegistry codecs,
        AdaptiveCompressionPolicy compression,
        TimeProvider time,
        Meter meter,
        ILogger logger,
        Action<string, long> onLaterTagTime)
    {
        _redis = redis;
        _dataTypeNames = dataTypes.Names;
        _ttl = new AdaptiveTtlCalculator(
            new AdaptiveTtlOptions
            {
                DataTypeMultipliers = new Dictionary<string, double>(options.DataTypeTtlMultipliers, StringComparer.OrdinalIgnoreCase),
                VariationFactor = options.TtlVariationFactor,
            },
            dataTypes);
        _codecs = codecs;
        _compression = compression;
        _time = time;
        _logger = logger;
        _maximumExpiration = options.L2MaximumExpiration;
        TagTimes = new TagTimeCache(redis, options.KeyPrefix, options.TagTimeRefreshInterval, options.MaximumCachedTagTimes, options.L2MaximumExpiration, time, onLaterTagTime);
        _codecNames[0] = NoCodec;
        foreach (var codec in codecs.All)
        {
            _codecNames[(byte)codec.Id] = codec.Name;
        }

        _compressionInput = meter.CreateCounter<long>(OptimizedCacheMetrics.CompressionInput, "By", "Bytes of L2 values before compression, by codec (none: stored raw).");
        _compressionOutput = meter.CreateCounter<long>(OptimizedCacheMetrics.CompressionOutput, "By", "Bytes of L2 values as stored, by codec (none: stored raw).");
        _unreadable = meter.CreateCounter<long>(OptimizedCacheMetrics.L2Unreadable, "{entry}", "L2 entries read but unusable (counted as misses), by reason.");
        _staleWritesRefused = meter.CreateCounter<long>(
            OptimizedCacheMetrics.L2StaleWritesRefused, "{write}", "L2 writes refused because a removal overtook the value's read, by reason.");
        _removalWindow = options.RemovalTombstoneWindow;
        _removalCapacity = Math.Max(MinimumBucketTombstones, (options.MaximumRemovalTombstones + Buckets - 1) / Buckets);
        _patternCapacity = Math.Min(MaximumPatternTombstones, options.MaximumRemovalTombstones);
        _entryPrefixes = new string[Buckets];
        _removals = new RemovalKeys[Buckets];
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            var tag = "{" + bucket.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + "}";
            _entryPrefixes[bucket] = options.KeyPrefix + ":" + tag + ":";
            var structure = options.KeyPrefix + "#rm:" + tag + ":";
            _removals[bucket] = new RemovalKeys([], [], structure + "keys", structure + "floor", structure + "seq");
        }

        var patterns = options.KeyPrefix + "#rm:{p}:";
        _patternKeys = new PatternKeys(patterns + "patterns", patterns + "floor", patterns + "seq");
        ScanPrefix = options.KeyPrefix + ":{??}:";
    }

    /// <summary>
    /// How many buckets the entries are spread over. A bucket is a hash tag (<c>{00}</c> to <c>{ff}</c>) that puts an
    /// entry and the tombstones that guard its writes in one hash slot, so the conditional write is one script on a
    /// Redis Cluster too; 256 spread evenly over a few primaries while a pattern invalidation raises every bucket's
    /// sequence in one pipelined round.
    /// </summary>
    public const int Buckets = 256;

    /// <summary>The fewest removal tombstones a bucket keeps before folding into its floor.</summary>
    private const int MinimumBucketTombstones = 16;

    /// <summary>The bucket of a cache key: the same on every replica and process.</summary>
    public static int BucketOf(string key) =>
        (int)(System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key.AsSpan())) & (Buckets - 1));

    /// <summary>The Redis keys of a bucket's key tombstone set, floor and pattern sequence.</summary>
    public RemovalKeys RemovalStructure(int bucket) => _removals[bucket];

    /// <summary>The Redis keys of the pattern tombstone set, its floor and the pattern sequence.</summary>
    public PatternKeys PatternStructure => _patternKeys;

    /// <summary>What every entry key starts with, as a SCAN MATCH glob (<c>{prefix}:{??}:</c>, the prefix not escaped).</summary>
    public string ScanPrefix { get; }

    /// <summary>L2 writes refused because a removal overtook the value's read (all reasons).</summary>
    public long StaleWritesRefused => Interlocked.Read(ref _refused);

    /// <summary>The resilient Redis access (shared with the invalidation bus).</summary>
    public ResilientRedis Redis => _redis;

    /// <summary>Tag invalidation times read from or written to Redis.</summary>
    public TagTimeCache TagTimes { get; }

    /// <summary>The adaptive TTL calculator (its access sketch is fed by L1 hits and L2 reads).</summary>
    public AdaptiveTtlCalculator Ttl => _ttl;

    /// <summary>The Redis key of a cache entry.</summary>
    public string RedisKey(string key) => string.Concat(_entryPrefixes[BucketOf(key)], key);
    /// <inheritdoc />
    public L2PendingGet BeginGet(string key, CancellationToken cancellationToken)
    {
        if (_redis.StartGet(RedisKey(key), out var reply, out var sentAt) != ResilientRedis.GetStart.Sent)
        {
            return default; // the caller reads through GetAsync (unavailable, or the breaker's gate)
        }

        _ttl.RecordAccess(key);
        return new L2PendingGet(reply, sentAt);
    }

    /// <inheritdoc />
    public ValueTask<DistributedCacheHit?> EndGetAsync(RedisValue reply, Exception? failure, long sentAt, int dataType, CancellationToken cancellationToken)
    {
        var read = _redis.EndGet(reply, failure, sentAt, cancellationToken);
        return read.Ok && !read.Value.IsNull ? DecodeAsync(read.Value, dataType, cancellationToken) : default;
    }

    /// <inheritdoc />
    public async ValueTask<DistributedCacheHit?> GetAsync(string key, int dataType, CancellationToken cancellationToken)
    {
        var pending = BeginGet(key, cancellationToken);
        if (pending.IsSent)
        {
            RedisValue reply = default;
            Exception? failure = null;
            try
            {
                reply = await pending.Reply.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            return await EndGetAsync(reply, failure, pending.SentAt, dataType, cancellationToken).ConfigureAwait(false);
        }

        _ttl.RecordAccess(key);
        var read = await _redis.GetAsync(RedisKey(key), cancellationToken).ConfigureAwait(false);
        return read.Ok && !read.Value.IsNull
            ? await DecodeAsync(read.Value, dataType, cancellationToken).ConfigureAwait(false)
            : null;
    }

    // The envelope, expiry, codec and tag checks of a read of `bytes`. Synchronous unless a tag time has to be read
    // from Redis.
    private ValueTask<DistributedCacheHit?> DecodeAsync(ReadOnlyMemory<byte> bytes, int dataType, CancellationToken cancellationToken)
    {
        var status = CacheValue.TryRead(bytes.Span, out var header, out Range range, _dataTypeNames[dataType]);
        if (status != EnvelopeReadResult.Ok)
        {
            Unreadable(dataType, status switch
            {
                EnvelopeReadResult.UnknownVersion => "unknown_version",
                EnvelopeReadResult.UnknownCodec => "unknown_codec",
                _ => "corrupt",
            });
            return default;
        }

        var readAt = _time.GetUtcNow();
        if (header.IsExpiredAt(readAt.ToUnixTimeMilliseconds()))
        {
            return default; // Redis would have dropped it by now on a clock that agrees; an ordinary miss
        }

        ReadOnlyMemory<byte> payload;
        if (header.Codec == CompressionCodecId.None)
        {
            payload = bytes[range];
        }
        else
        {
            var writer = new ArrayBufferWriter<byte>(Math.Max(1, Math.Min(header.UncompressedLength, _codecs.MaxPayloadBytes)));
            var decompressed = _codecs.Decompress(header.Codec, bytes.Span[range], header.UncompressedLength, writer);
            if (decompressed != DecompressionStatus.Ok)
            {
                Unreadable(dataType, decompressed switch
                {
                    DecompressionStatus.CodecUnavailable => "codec_unavailable",
                    DecompressionStatus.TooLarge => "too_large",
                    _ => "decompression_failed",
                });
                return default;
            }

            payload = writer.WrittenMemory;
        }

        var readAtTimestamp = _time.GetTimestamp();
        var tagged = TagTimes.IsInvalidatedAsync(header.Tags, header.CreatedAtUnixMilliseconds, readAtTimestamp, cancellationToken);
        if (!tagged.IsCompletedSuccessfully)
        {
            return AfterTagTimesAsync(tagged, header, payload);
        }

        if (tagged.Result)
        {
            return default;
        }

        return new ValueTask<DistributedCacheHit?>(Hit(header, payload, readAt, readAtTimestamp));
    }

    // Tag times had to be read from Redis: the clocks are read again for the hit, after that round trip.
    private async ValueTask<DistributedCacheHit?> AfterTagTimesAsync(ValueTask<bool> tagged, CacheEnvelopeHeader header, ReadOnlyMemory<byte> payload)
    {
        if (await tagged.ConfigureAwait(false))
        {
            return null;
        }

        return Hit(header, payload, _time.GetUtcNow(), _time.GetTimestamp());
    }

    private static DistributedCacheHit Hit(in CacheEnvelopeHeader header, ReadOnlyMemory<byte> payload, DateTimeOffset readAt, long readAtTimestamp) => new(
        payload,
        DateTimeOffset.FromUnixTimeMilliseconds(header.ExpiresAtUnixMilliseconds),
        DateTimeOffset.FromUnixTimeMilliseconds(header.CreatedAtUnixMilliseconds),
        header.Tags as string[] ?? [.. header.Tags],
        readAt,
        readAtTimestamp);

    /// <inheritdoc />
    public async ValueTask SetAsync(
        string key, ReadOnlyMemory<byte> payload, int dataType, TimeSpan expiration, bool explicitExpiration, string[] tags,
        DateTimeOffset createdAt, HybridCacheEntryFlags flags, bool overwrite, CancellationToken cancellationToken)
    {
        if (!_redis.IsAvailable)
        {
            return; // Redis down or the circuit open: the write is skipped (L1 has the value)
        }

        var ttl = CalculateTtl(key, dataType, expiration, explicitExpiration, payload.Length);
        PooledBufferWriter envelope;
        try
        {
            envelope = Encode(payload.Span, dataType, createdAt, ttl, tags, (flags & HybridCacheEntryFlags.DisableCompression) != 0);
        }
        catch (ArgumentException ex)
        {
            // a tag or data type the envelope cannot carry (bounds of the format); the value stays in L1 only
            Log.L2WriteSkipped(_logger, _dataTypeNames[dataType], ex.Message);
            return;
        }

        try
        {
            await WriteUnlessRemovedAsync(key, envelope.WrittenMemory, ttl, Math.Max(0, createdAt.ToUnixTimeMilliseconds()), overwrite, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            envelope.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken) =>
        (await RemoveKeysAsync([key], _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false)).Ok;

    /// <summary>
    /// Unlinks the entries of <paramref name="keys"/> and records a tombstone for each at <paramref name="unixMilliseconds"/>,
    /// in one atomic script: how many entries existed.
    /// </summary>
    public async ValueTask<L2Result<long>> RemoveKeysAsync(IReadOnlyList<string> keys, long unixMilliseconds, CancellationToken cancellationToken)
    {
        if (keys.Count == 1)
        {
            var bucket = BucketOf(keys[0]);
            return await _redis.RemoveWithTombstonesAsync(
                _removals[bucket] with { Entries = [_entryPrefixes[bucket] + keys[0]], Members = keys }, unixMilliseconds, _removalWindow, _removalCapacity, cancellationToken).ConfigureAwait(false);
        }

        // one script per bucket: its keys and its tombstones share a hash slot
        var removed = 0L;
        foreach (var group in keys.GroupBy(BucketOf))
        {
            var members = group.ToArray();
            var entries = Array.ConvertAll(members, k => _entryPrefixes[group.Key] + k);
            var one = await _redis.RemoveWithTombstonesAsync(
                _removals[group.Key] with { Entries = entries, Members = members }, unixMilliseconds, _removalWindow, _removalCapacity, cancellationToken).ConfigureAwait(false);
            if (!one.Ok)
            {
                return L2Result<long>.Unavailable;
            }

            removed += one.Value;
        }

        return new L2Result<long>(removed);
    }

    /// <summary>
    /// Records a pattern invalidation at <paramref name="unixMilliseconds"/> before its SCAN starts, so that no replica
    /// writes a matching value read before it; false when Redis could not be reached.
    /// </summary>
    /// <remarks>
    /// The pattern goes into the pattern set and advances the global sequence; then every bucket's sequence (and
    /// floor, when patterns overflowed into it) is raised to match, all buckets in one pipelined round, before the
    /// SCAN starts. A write checked against an older sequence is refused once its bucket is raised; a write that
    /// lands in a bucket not raised yet is removed by the SCAN that follows.
    /// </remarks>
    public async ValueTask<bool> RecordPatternAsync(string pattern, long unixMilliseconds, CancellationToken cancellationToken)
    {
        var recorded = await _redis.RecordPatternAsync(_patternKeys, pattern, unixMilliseconds, _removalWindow, _patternCapacity, cancellationToken).ConfigureAwait(false);
        if (!recorded.Ok)
        {
            return false;
        }

        var (sequence, floor) = recorded.Value;
        var raises = new Task<L2Result<bool>>[Buckets];
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            raises[bucket] = _redis.RaiseBucketAsync(_removals[bucket].Sequence, _removals[bucket].Floor, sequence, floor, _removalWindow, cancellationToken).AsTask();
        }

        foreach (var raised in await Task.WhenAll(raises).ConfigureAwait(false))
        {
            if (!raised.Ok)
            {
                return false;
            }
        }

        return true;
    }

    // The conditional write: refused when the value's read started longer ago than the tombstone window (its removal
    // may be forgotten already), when a pattern this replica knows was recorded at or after the read started and
    // matches the key, or when the script finds a key tombstone or the floor at or after it. When the script says
    // the pattern sequence moved, the patterns are re-read and the write tried again (a few times at most: if
    // patterns keep arriving meanwhile the value is simply not written).
    private async ValueTask WriteUnlessRemovedAsync(string key, ReadOnlyMemory<byte> envelope, TimeSpan ttl, long readStartedMs, bool overwrite, CancellationToken cancellationToken)
    {
        if (readStartedMs <= _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_removalWindow.TotalMilliseconds)
        {
            Refused("window");
            return;
        }

        var bucket = BucketOf(key);
        var redisKey = _entryPrefixes[bucket] + key;
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            var patterns = _patterns;
            if (patterns.Invalidates(key, readStartedMs))
            {
                Refused("pattern");
                return;
            }

            var written = await _redis.SetUnlessRemovedAsync(redisKey, key, _removals[bucket], envelope, ttl, readStartedMs, patterns.Sequence, overwrite, _removalWindow, _removalCapacity, cancellationToken).ConfigureAwait(false);
            if (!written.Ok)
            {
                return; // Redis unavailable: the write is skipped, as any other
            }

            switch (written.Value)
            {
                case ResilientRedis.WriteOutcome.KeyRemoved:
                    Refused("key");
                    return;
                case ResilientRedis.WriteOutcome.BeforeFloor:
                    Refused("overflow");
                    return;
                case ResilientRedis.WriteOutcome.PatternsChanged:
                    if (!await RefreshPatternsAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                default:
                    return;
            }
        }
    }

    private async ValueTask<bool> RefreshPatternsAsync(CancellationToken cancellationToken)
    {
        var read = await _redis.ReadPatternsAsync(_patternKeys, cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            return false;
        }

        var (sequence, stored) = read.Value;
        var compiled = new List<(GlobPattern, long)>(stored.Length);
        foreach (var (pattern, unixMs) in stored)
        {
            if (pattern.Length > 0)
            {
                compiled.Add((GlobPattern.Compile(pattern), unixMs));
            }
        }

        _patterns = new PatternSnapshot(sequence, [.. compiled]);
        return true;
    }

    private void Refused(string reason)
    {
        Interlocked.Increment(ref _refused);
        _staleWritesRefused.Add(1, new KeyValuePair<string, object?>(OptimizedCacheMetrics.ReasonTag, reason));
    }

    /// <summary>The pattern invalidations recorded in Redis as of one sequence number.</summary>
    private sealed record PatternSnapshot(long Sequence, (GlobPattern Glob, long UnixMilliseconds)[] Patterns)
    {
        public bool Invalidates(string key, long readStartedMs)
        {
            foreach (var (glob, unixMs) in Patterns)
            {
                if (readStartedMs <= unixMs && key.StartsWith(glob.LiteralPrefix, StringComparison.Ordinal) && glob.IsMatch(key))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveByTagAsync(string tag, long unixMilliseconds, CancellationToken cancellationToken) =>
        TagTimes.WriteAsync(tag, unixMilliseconds, cancellationToken);

    /// <summary>
    /// The L2 TTL of an entry: the adaptive TTL of its base expiration, capped by an explicit expiration and by
    /// <see cref="OptimizedHybridCacheOptions.L2MaximumExpiration"/>; at least 1 ms.
    /// </summary>
    public TimeSpan CalculateTtl(string key, int dataType, TimeSpan expiration, bool explicitExpiration, long size)
    {
        var ttl = _ttl.Calculate(key, _dataTypeNames[dataType], expiration, size);
        if (explicitExpiration && ttl > expiration)
        {
            ttl = expiration;
        }

        if (ttl > _maximumExpiration)
        {
            ttl = _maximumExpiration;
        }

        return ttl < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : ttl;
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();

    private PooledBufferWriter Encode(ReadOnlySpan<byte> payload, int dataType, DateTimeOffset createdAt, TimeSpan ttl, string[] tags, bool disableCompression)
    {
        var dataTypeName = _dataTypeNames[dataType];
        var compressed = disableCompression
            ? new CompressedPayload(CompressionCodecId.None, payload, payload.Length, null)
            : _compression.Compress(dataTypeName, payload);
        try
        {
            var createdMs = Math.Max(0, createdAt.ToUnixTimeMilliseconds());
            var expiresMs = Math.Max(createdMs, _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)Math.Ceiling(ttl.TotalMilliseconds));
            var header = new CacheEnvelopeHeader(compressed.Codec, dataTypeName, createdMs, expiresMs, compressed.UncompressedLength, tags);
            var writer = new PooledBufferWriter(CacheValue.GetEncodedLength(header, compressed.Payload.Length));
            try
            {
                CacheValue.Write(writer, header, compressed.Payload);
            }
            catch
            {
                writer.Dispose();
                throw;
            }

            var codec = new KeyValuePair<string, object?>(OptimizedCacheMetrics.CodecTag, _codecNames[(byte)compressed.Codec] ?? NoCodec);
            _compressionInput.Add(compressed.UncompressedLength, codec);
            _compressionOutput.Add(compressed.Payload.Length, codec);
            return writer;
        }
        finally
        {
            compressed.Dispose();
        }
    }

    private void Unreadable(int dataType, string reason)
    {
        _unreadable.Add(1, new KeyValuePair<string, object?>(OptimizedCacheMetrics.ReasonTag, reason));
        Log.L2EntryUnreadable(_logger, _dataTypeNames[dataType], reason);
    }
}
