using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The L2 tier over Redis: entries at <c>{prefix}:{key}</c> as <see cref="CacheValue"/> envelopes around the
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
/// </remarks>
internal sealed class RedisDistributedTier : IDistributedCacheTier, IAsyncDisposable
{
    private const string NoCodec = "none";

    private readonly ResilientRedis _redis;
    private readonly string _keyPrefix;
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
        _keyPrefix = options.KeyPrefix;
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
    }

    /// <summary>The resilient Redis access (shared with the invalidation bus).</summary>
    public ResilientRedis Redis => _redis;

    /// <summary>Tag invalidation times read from or written to Redis.</summary>
    public TagTimeCache TagTimes { get; }

    /// <summary>The adaptive TTL calculator (its access sketch is fed by L1 hits and L2 reads).</summary>
    public AdaptiveTtlCalculator Ttl => _ttl;

    /// <summary>The Redis key of a cache entry.</summary>
    public string RedisKey(string key) => string.Concat(_keyPrefix, ":", key);

    /// <inheritdoc />
    public async ValueTask<DistributedCacheHit?> GetAsync(string key, int dataType, CancellationToken cancellationToken)
    {
        _ttl.RecordAccess(key);
        var read = await _redis.GetAsync(RedisKey(key), cancellationToken).ConfigureAwait(false);
        if (!read.Ok || read.Value is not { } bytes)
        {
            return null;
        }

        var status = CacheValue.TryRead(bytes, out var header, out Range range);
        if (status != EnvelopeReadResult.Ok)
        {
            Unreadable(dataType, status switch
            {
                EnvelopeReadResult.UnknownVersion => "unknown_version",
                EnvelopeReadResult.UnknownCodec => "unknown_codec",
                _ => "corrupt",
            });
            return null;
        }

        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (header.IsExpiredAt(nowMs))
        {
            return null; // Redis would have dropped it by now on a clock that agrees; an ordinary miss
        }

        ReadOnlyMemory<byte> payload;
        if (header.Codec == CompressionCodecId.None)
        {
            payload = bytes.AsMemory(range);
        }
        else
        {
            var writer = new ArrayBufferWriter<byte>(Math.Max(1, Math.Min(header.UncompressedLength, _codecs.MaxPayloadBytes)));
            var decompressed = _codecs.Decompress(header.Codec, bytes.AsSpan(range), header.UncompressedLength, writer);
            if (decompressed != DecompressionStatus.Ok)
            {
                Unreadable(dataType, decompressed switch
                {
                    DecompressionStatus.CodecUnavailable => "codec_unavailable",
                    DecompressionStatus.TooLarge => "too_large",
                    _ => "decompression_failed",
                });
                return null;
            }

            payload = writer.WrittenMemory;
        }

        if (await TagTimes.IsInvalidatedAsync(header.Tags, header.CreatedAtUnixMilliseconds, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var tags = header.Tags as string[] ?? [.. header.Tags];
        return new DistributedCacheHit(
            payload,
            DateTimeOffset.FromUnixTimeMilliseconds(header.ExpiresAtUnixMilliseconds),
            DateTimeOffset.FromUnixTimeMilliseconds(header.CreatedAtUnixMilliseconds),
            tags);
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(
        string key, ReadOnlyMemory<byte> payload, int dataType, TimeSpan expiration, bool explicitExpiration, string[] tags,
        DateTimeOffset createdAt, HybridCacheEntryFlags flags, CancellationToken cancellationToken)
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
            await _redis.SetAsync(RedisKey(key), envelope.WrittenMemory, ttl, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            envelope.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken) =>
        (await _redis.UnlinkAsync([RedisKey(key)], cancellationToken).ConfigureAwait(false)).Ok;

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
