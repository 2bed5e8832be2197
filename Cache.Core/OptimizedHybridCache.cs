using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Internal.Invalidation;

namespace OptimizedCache.Cache.Core;

/// <summary>
/// A <see cref="HybridCache"/> with an in-process L1 (byte-budgeted, W-TinyLFU eviction) and, when a Redis connection
/// is configured, a Redis L2. Adds stampede protection across every caller of a key, eager refresh, fail-safe,
/// metrics on the <c>OptimizedCache</c> meter and a statistics API. Register it with
/// <c>services.AddOptimizedHybridCache(...)</c>; application code depends on <see cref="HybridCache"/> only.
/// </summary>
/// <remarks>
/// Differences from the default implementation, on purpose: an invalid key or flag is an
/// <see cref="ArgumentException"/> (never a silent uncached call); a value that fails to serialize is returned
/// uncached (never an exception), but a type whose state System.Text.Json would lose is refused with
/// <see cref="UnsupportedCacheValueTypeException"/> at its first write;
/// <see cref="HybridCacheEntryFlags.DisableCompression"/> is honoured by the L2 tier.
/// </remarks>
[SkipLocalsInit]
public sealed partial class OptimizedHybridCache : HybridCache, IDisposable
{
    /// <summary>Every defined <see cref="HybridCacheEntryFlags"/> bit; any other bit is invalid input.</summary>
    internal const HybridCacheEntryFlags AllFlags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite
        | HybridCacheEntryFlags.DisableDistributedCacheRead | HybridCacheEntryFlags.DisableDistributedCacheWrite
        | HybridCacheEntryFlags.DisableUnderlyingData | HybridCacheEntryFlags.DisableCompression;

    /// <summary>Expiration of both tiers when neither the call nor the defaults give one.</summary>
    internal static readonly TimeSpan DefaultExpiration = TimeSpan.FromMinutes(5);

    private readonly OptimizedHybridCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SerializerResolver _serializers;
    private readonly DataTypeClassifier _dataTypes;
    private readonly IDistributedCacheTier? _l2; // null: L1 only (no Redis configured); the L2 partial assigns it
    private readonly HybridCacheEntryFlags _hardFlags;
    private readonly HybridCacheEntryFlags _defaultFlags;
    private readonly TimeSpan _defaultExpiration;
    private readonly TimeSpan _defaultLocalExpiration;
    private readonly int _maximumKeyLength;
    private readonly int _maximumPayloadBytes;
    private readonly double _timestampsPerTick;
    private CoarseClock? _coarseClock; // the L1 hit path's clock when _time is the system clock (replaced by maintenance)
    private int _disposed;

    // Which L1 hits time themselves for the latency statistics when no listener wants every one: one in 64 per thread.
    [ThreadStatic]
    private static uint t_hitSample;

    /// <summary>One replayed L1 hit in this many feeds the hot-key statistics.</summary>
    internal const int TopKeysHitSampling = 32;

    internal OptimizedHybridCache(IOptions<OptimizedHybridCacheOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _options = options.Value;
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _logger = services.GetService<ILoggerFactory>()?.CreateLogger<OptimizedHybridCache>() ?? (ILogger)NullLogger.Instance;
        _serializers = new SerializerResolver(services);
        _dataTypes = new DataTypeClassifier(_options.DataTypePrefixes);
        _maximumKeyLength = _options.MaximumKeyLength;
        _maximumPayloadBytes = (int)Math.Min(_options.MaximumPayloadBytes, int.MaxValue);
        _timestampsPerTick = (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond;
        _coarseClock = CoarseClock.For(_time);

        _meter = services.GetService<IMeterFactory>()?.Create(OptimizedCacheMetrics.MeterName) ?? new Meter(OptimizedCacheMetrics.MeterName);
        _ownsMeter = services.GetService<IMeterFactory>() is null;

        // L1 + L2 when a Redis connection string is configured (the L2 partial); L1 only otherwise. Connecting
        // happens in the background: start-up never waits for or fails on Redis.
        _l2 = _options.RedisConnectionString is not null || _options.ConnectionMultiplexerFactory is not null ? CreateDistributedTier(services) : null;

        var defaults = _options.DefaultEntryOptions;
        _hardFlags = _l2 is null ? HybridCacheEntryFlags.DisableDistributedCache : HybridCacheEntryFlags.None;
        _defaultFlags = (defaults?.Flags ?? HybridCacheEntryFlags.None) | _hardFlags;
        _defaultExpiration = defaults?.Expiration ?? DefaultExpiration;
        _defaultLocalExpiration = EffectiveLocalExpiration(defaults) ?? _defaultExpiration;

        _counters = new StripedCounters(_dataTypes.Names.Length);
        _topKeys = new TopKeysTracker(_options.TopKeysCapacity);
        _tags = new TagInvalidationTable(_options.MaximumTrackedTags, FoldTagIntoScan);
        _budget = new MemoryBudget(_options, services.GetService<MemorySnapshotSource>() is { } source ? () => source() : MemorySnapshot.FromGC);
        _budget.Update();
        _l1 = new L1Store(_budget.CurrentBytes, OnEvicted);
        // Hot keys see one replayed hit in TopKeysHitSampling, chosen at random (a fixed stride would always pick the
        // same keys of a periodic pattern) and weighted accordingly: the drain stays cheap with large key sets (each
        // Space-Saving step takes a lock and may displace a counter). The drain runs under the store's lock, so the
        // generator's state needs no synchronization.
        var random = (uint)Environment.TickCount | 1;
        _l1.OnReadDrained = entry =>
        {
            random ^= random << 13;
            random ^= random >> 17;
            random ^= random << 5;
            if (random % TopKeysHitSampling == 0)
            {
                _topKeys.Record(entry.Key, hit: true, TopKeysHitSampling);
            }

            // L1 hits count as accesses for the adaptive L2 TTL (hot keys live longer in L2 too)
            DistributedTier?.Ttl.RecordAccess(entry.Key);
        };

        CreateInstruments();

        // dependency rules, the outage queue and the coherence channel over the L2 tier's Redis connection
        InitializeInvalidation(Redis);
        StartMaintenance();
    }

    /// <summary>Whether an L2 tier is configured (false: L1 only).</summary>
    public bool HasDistributedTier => _l2 is not null;

    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(factory);
        var flags = EffectiveFlags(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if ((flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0)
        {
            // A hit that is not timed reads the coarse clock: it only compares with the entry's times.
            var coarse = _coarseClock;
            var timed = coarse is null || (++t_hitSample & 63) == 0 || _operationDuration.Enabled;
            var now = timed ? _time.GetTimestamp() : coarse!.GetTimestamp();
            if (_l1.TryPeek(key, out var entry) && entry.ValueType == typeof(T) && now < entry.ExpiresAt && !_tags.IsInvalid(entry)
                && TryGetValue(entry, out T? value))
            {
                var thread = Environment.CurrentManagedThreadId; // read once: both stripings use it
                _counters.Increment(thread, entry.DataType, CounterKind.L1Hit);
                _l1.RecordRead(entry, thread);
                if (now >= entry.RefreshAt)
                {
                    TryStartRefresh(entry, flags, state, factory, options, tags);
                }

                if (timed)
                {
                    RecordDuration(Operation.GetL1, now);
                }

                return new ValueTask<T>(value!);
            }

            // the miss path times itself and stamps what it writes: from the precise clock
            return MissAsync(key, flags, state, factory, options, tags, timed ? now : _time.GetTimestamp(), cancellationToken);
        }

        return JoinFlightAsync(key, flags, _dataTypes.Classify(key), state, factory, options, tags, _time.GetTimestamp(), cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        var flags = EffectiveFlags(options);
        cancellationToken.ThrowIfCancellationRequested();
        var start = _time.GetTimestamp();
        var tagArray = ValidateTags(tags);
        var dataType = _dataTypes.Classify(key);
        var write = Write(key, value, flags, options, tagArray, start, dataType);
        RecordDuration(Operation.SetL1, start);

        // other replicas may hold the previous value in their L1: they drop it once the new one is in L2
        return _bus is null ? write : AnnounceOverwriteAsync(write, key, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Removes the key from this L1 at once, unlinks it in Redis and has every other replica drop its L1 copy
    /// (OptimizedHybridCache.Invalidation.cs). With Redis unavailable the L2 part is queued and replayed; the call
    /// does not fail.
    /// </remarks>
    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        return RemoveKeysAsync([key], cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        // null is treated as empty, as the abstraction asks; every key is validated before anything is removed
        var all = new List<string>();
        foreach (var key in keys ?? [])
        {
            ValidateKey(key);
            all.Add(key);
        }

        for (var i = 0; i < all.Count; i += InvalidationMessage.MaximumItems)
        {
            await RemoveKeysAsync(all.GetRange(i, Math.Min(InvalidationMessage.MaximumItems, all.Count - i)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The tag's invalidation time is recorded in this L1 and written once to Redis; entries carrying the tag are
    /// checked lazily at read, so the cost is O(1) however many entries carry it. <c>*</c> invalidates everything
    /// (<see cref="ClearAsync"/>). Every other replica applies it to its L1 through the invalidation channel.
    /// </remarks>
    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        ValidateTag(tag, allowWildcard: true);
        return RemoveTagsAsync([tag], cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        var all = new List<string>();
        foreach (var tag in tags ?? [])
        {
            ValidateTag(tag, allowWildcard: true);
            if (!all.Contains(tag))
            {
                all.Add(tag);
            }
        }

        for (var i = 0; i < all.Count; i += InvalidationMessage.MaximumItems)
        {
            await RemoveTagsAsync(all.GetRange(i, Math.Min(InvalidationMessage.MaximumItems, all.Count - i)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the maintenance timer, closes the Redis connection and releases the meter when the cache owns it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _maintenanceTimer?.Dispose();
        DisposeInvalidation();
        DisposeDistributedTier();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>Converts a duration to <see cref="TimeProvider"/> timestamp units, saturating.</summary>
    internal long ToTimestampSpan(TimeSpan duration)
    {
        var units = duration.Ticks * _timestampsPerTick;
        return units >= long.MaxValue / 4 ? long.MaxValue / 4 : (long)units;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private HybridCacheEntryFlags EffectiveFlags(HybridCacheEntryOptions? options)
    {
        if (options?.Flags is { } flags)
        {
            if ((flags & ~AllFlags) != 0)
            {
                ThrowUndefinedFlags(flags);
            }

            return flags | _hardFlags;
        }

        return _defaultFlags;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowUndefinedFlags(HybridCacheEntryFlags flags) =>
        throw new ArgumentException($"HybridCacheEntryFlags value 0x{(int)flags:X} has undefined bits 0x{(int)(flags & ~AllFlags):X}.", "options");

    // If the call gives only Expiration, it also sets the local one; LocalCacheExpiration never outlives Expiration.
    private static TimeSpan? EffectiveLocalExpiration(HybridCacheEntryOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        if (options.LocalCacheExpiration is { } local)
        {
            return options.Expiration is { } overall && overall < local ? overall : local;
        }

        return options.Expiration;
    }

    internal TimeSpan LocalExpiration(HybridCacheEntryOptions? options) => ValidateDuration(EffectiveLocalExpiration(options)) ?? _defaultLocalExpiration;

    internal TimeSpan OverallExpiration(HybridCacheEntryOptions? options) => ValidateDuration(options?.Expiration) ?? _defaultExpiration;

    private static TimeSpan? ValidateDuration(TimeSpan? duration)
    {
        if (duration is { } value && value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Entry expirations must be positive; got {value}.", "options");
        }

        return duration;
    }
}
