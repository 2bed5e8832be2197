using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core;

// L1: lookups, writes (serialize, weigh, admit), lazy and periodic expiry, tag checks and the memory budget.
public sealed partial class OptimizedHybridCache
{
    /// <summary>
    /// Bytes charged per entry on top of its payload, key and tag characters: the entry object with its policy links
    /// (~104), the dictionary node and its bucket (~56), and the headers of the key string, the payload array and the
    /// tags array (~24 each). Measured against the heap by <c>L1AccountingTests</c> (it was 160, which left small
    /// entries under-counted by about 15%).
    /// </summary>
    internal const int EntryOverheadBytes = 232;

    /// <summary>Bytes charged per tag on top of its characters: the string's header and its slot in the tags array.</summary>
    internal const int TagOverheadBytes = 32;

    private readonly L1Store _l1;
    private readonly TagInvalidationTable _tags;
    private readonly MemoryBudget _budget;
    private ITimer? _maintenanceTimer;

    /// <summary>The L1 store (tests and the eviction simulator look at it directly).</summary>
    internal L1Store L1 => _l1;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryGetValue<T>(L1Entry entry, [MaybeNullWhen(false)] out T value)
    {
        if (entry.Payload is null)
        {
            // immutable type: the same instance (inlined into the hit path; the copy below has a handler, so it is not)
            value = (T)entry.Value!;
            return true;
        }

        return TryDeserializeCopy(entry, out value);
    }

    // mutable type: every hit gets its own copy
    private bool TryDeserializeCopy<T>(L1Entry entry, [MaybeNullWhen(false)] out T value)
    {
        try
        {
            value = _serializers.Get<T>().Deserialize(new ReadOnlySequence<byte>(entry.Payload!));
            return true;
        }
        catch (Exception ex)
        {
            _logger.DeserializationFailed(ex, _dataTypes.Names[entry.DataType], typeof(T).Name);
            _l1.Remove(entry, EvictionReason.Removed);
            value = default;
            return false;
        }
    }

    private ValueTask<T> MissAsync<TState, T>(
        string key, HybridCacheEntryFlags flags, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, long now, CancellationToken cancellationToken)
    {
        int dataType;
        if (_l1.TryPeek(key, out var found))
        {
            dataType = found.DataType;
            if (now >= found.StaleUntil || _tags.IsInvalid(found))
            {
                // dead: past its fail-safe window, or invalidated by a tag; an expired entry younger than that stays
                // for fail-safe
                _l1.Remove(found, _tags.IsInvalid(found) ? EvictionReason.Removed : EvictionReason.Expired);
            }
        }
        else
        {
            dataType = _dataTypes.Classify(key);
        }

        _counters.Increment(dataType, CounterKind.L1Miss);
        _topKeys.Record(key, hit: false);
        return JoinFlightAsync(key, flags, dataType, state, factory, options, tags, now, cancellationToken);
    }

    /// <summary>An expired value still within the fail-safe window, if L1 has one of this type.</summary>
    private bool TryGetStale<T>(string key, HybridCacheEntryFlags flags, [MaybeNullWhen(false)] out T value)
    {
        value = default;
        return (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0
            && _l1.TryPeek(key, out var entry)
            && entry.ValueType == typeof(T)
            && _time.GetTimestamp() < entry.StaleUntil
            && !_tags.IsInvalid(entry)
            && TryGetValue(entry, out value);
    }

    /// <summary>
    /// Serializes the value (bounded by MaximumPayloadBytes), stores it in L1 unless the flags say not to, and hands
    /// the payload to L2 when there is one. A value too large or failing to serialize is counted and logged (without
    /// its key) and not cached; the caller still gets it. Returns the payload for mutable types (callers deserialize
    /// their own copies), null otherwise. <paramref name="overwrite"/> marks an explicit SetAsync: its L2 write also
    /// fences the key in Redis against older factory results still on their way (RedisDistributedTier).
    /// </summary>
    private byte[]? Store<T>(string key, T value, HybridCacheEntryFlags flags, HybridCacheEntryOptions? options, string[] tags, long createdAt, int dataType, bool overwrite, out ValueTask l2Write)
    {
        l2Write = default;
        var immutable = ImmutableTypeCache<T>.IsImmutable;
        var writeL1 = (flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0;
        var writeL2 = _l2 is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0;
        byte[]? payload = null;
        long payloadLength;

        if (value is string text)
        {
            // fast path: no serialization to weigh a string; UTF-8 length is what L2 would store
            payloadLength = System.Text.Encoding.UTF8.GetByteCount(text);
            if (payloadLength > _maximumPayloadBytes)
            {
                RejectTooLarge(dataType);
                return null;
            }

            if (writeL2)
            {
                payload = System.Text.Encoding.UTF8.GetBytes(text);
            }
        }
        else if (value is byte[] bytes)
        {
            // fast path: the bytes are the payload; copied so that the caller's later changes do not reach the cache
            if (bytes.Length > _maximumPayloadBytes)
            {
                RejectTooLarge(dataType);
                return null;
            }

            payload = bytes.ToArray();
            payloadLength = payload.Length;
        }
        else
        {
            using var writer = new PayloadBufferWriter(_maximumPayloadBytes);
            try
            {
                _serializers.Get<T>().Serialize(value, writer);
            }
            catch (Exception ex) when (writer.LimitExceeded || ex is PayloadTooLargeException)
            {
                RejectTooLarge(dataType);
                return null;
            }
            catch (Exception ex) when (ex is not UnsupportedCacheValueTypeException)
            {
                Interlocked.Increment(ref _serializationFailures);
                _logger.SerializationFailed(ex, _dataTypes.Names[dataType], typeof(T).Name);
                return null;
            }

            if (writer.WrittenCount > _maximumPayloadBytes)
            {
                RejectTooLarge(dataType);
                return null;
            }

            payloadLength = writer.WrittenCount;
            if (!immutable || writeL2)
            {
                payload = writer.ToArray();
            }
        }

        if ((writeL1 || writeL2) && (IsInvalidatedSince(key, createdAt) || _tags.IsInvalid(createdAt, tags)))
        {
            // an invalidation overtook this value while it was being produced: return it, cache nothing
            return immutable ? null : payload;
        }

        if (writeL1)
        {
            var now = _time.GetTimestamp();
            var local = ToTimestampSpan(LocalExpiration(options));
            var expiresAt = now + local;
            var refreshAt = _options.EagerRefreshThreshold >= 1 ? long.MaxValue : now + (long)(local * _options.EagerRefreshThreshold);
            var staleUntil = expiresAt + ToTimestampSpan(_options.FailSafeMaxStaleness);
            var weight = payloadLength + EntryOverheadBytes + (key.Length * 2L) + tags.Sum(t => TagOverheadBytes + (t.Length * 2L));
            var entry = new L1Entry(
                key,
                typeof(T),
                immutable ? value : null,
                immutable ? null : payload,
                weight,
                new EntryTimes(createdAt, expiresAt, refreshAt, staleUntil),
                tags,
                dataType);
            _l1.Set(entry);
            UndoIfOvertaken(entry, createdAt);
        }

        if (writeL2 && payload is not null)
        {
            var createdAtUtc = _time.GetUtcNow() - _time.GetElapsedTime(createdAt);
            l2Write = _l2!.SetAsync(key, payload, dataType, OverallExpiration(options), options?.Expiration is not null, tags, createdAtUtc, flags, overwrite, CancellationToken.None);
        }

        return immutable ? null : payload;
    }

    /// <summary>
    /// Closes the window between the invalidation check and the L1 write: a removal, pattern or flush applied in
    /// between found nothing to remove, so the entry just written is removed again if one has happened since
    /// <paramref name="readStarted"/>.
    /// </summary>
    private void UndoIfOvertaken(L1Entry entry, long readStarted)
    {
        if (IsInvalidatedSince(entry.Key, readStarted))
        {
            _l1.Remove(entry, EvictionReason.Removed);
        }
    }

    private ValueTask Write<T>(string key, T value, HybridCacheEntryFlags flags, HybridCacheEntryOptions? options, string[] tags, long createdAt, int dataType)
    {
        Store(key, value, flags, options, tags, createdAt, dataType, overwrite: true, out var l2Write);
        return l2Write;
    }

    private void RejectTooLarge(int dataType)
    {
        Interlocked.Increment(ref _payloadsTooLarge);
        _logger.PayloadTooLarge(_dataTypes.Names[dataType], _maximumPayloadBytes);
    }

    private void InvalidateTagLocally(string tag, long timestamp)
    {
        _tags.Invalidate(tag, timestamp);
        if (tag == TagInvalidationTable.Wildcard)
        {
            // everything older is invalid already; free the memory now rather than at the next sweep
            _l1.RemoveWhere(timestamp, static (t, entry) => entry.CreatedAt <= t, EvictionReason.Removed);
            _invalidations.Add(1, new(OptimizedCacheMetrics.KindTag, "all"), new(OptimizedCacheMetrics.SourceTag, "local"));
        }
        else
        {
            _invalidations.Add(1, new(OptimizedCacheMetrics.KindTag, "tag"), new(OptimizedCacheMetrics.SourceTag, "local"));
        }
    }

    // The tag table overflowed: remove now what the dropped tag time would have invalidated lazily.
    private void FoldTagIntoScan(string tag, long invalidatedAt)
        => _l1.RemoveWhere((tag, invalidatedAt), static (s, entry) => entry.CreatedAt <= s.invalidatedAt && Array.IndexOf(entry.Tags, s.tag) >= 0, EvictionReason.Removed);

    private void StartMaintenance()
    {
        var weak = new WeakReference<OptimizedHybridCache>(this);
        _maintenanceTimer = _time.CreateTimer(
            static state =>
            {
                if (((WeakReference<OptimizedHybridCache>)state!).TryGetTarget(out var cache))
                {
                    cache.RunMaintenance();
                }
            },
            weak,
            _options.MaintenanceInterval,
            _options.MaintenanceInterval);

        Gen2GcCallback.Register(() =>
        {
            if (!weak.TryGetTarget(out var cache) || Volatile.Read(ref cache._disposed) != 0)
            {
                return false;
            }

            ThreadPool.UnsafeQueueUserWorkItem(static c => c.CheckMemory(), cache, preferLocal: false);
            return true;
        });
    }

    /// <summary>Sweeps dead entries and re-reads the memory budget (the timer calls it; tests too).</summary>
    internal void RunMaintenance()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            if (_coarseClock is not null)
            {
                _coarseClock = CoarseClock.For(_time); // re-based, so that the tick count and the precise clock cannot drift apart
            }

            var now = _time.GetTimestamp();
            _l1.RemoveWhere((this, now), static (s, entry) => s.now >= entry.StaleUntil, EvictionReason.Expired);
            _l1.RemoveWhere(this, static (cache, entry) => cache._tags.IsInvalid(entry), EvictionReason.Removed);
            CheckMemory();
        }
        catch (Exception ex)
        {
            _logger.MaintenanceFailed(ex);
        }
    }

    /// <summary>Re-reads available memory and pressure; shrinks (evicting at once) or restores the L1 budget.</summary>
    internal void CheckMemory()
    {
        lock (_budget)
        {
            var wasUnderPressure = _budget.UnderPressure;
            if (_budget.Update())
            {
                _l1.SetCapacity(_budget.CurrentBytes, _budget.UnderPressure ? EvictionReason.MemoryPressure : EvictionReason.Capacity);
            }

            if (wasUnderPressure != _budget.UnderPressure)
            {
                _logger.MemoryPressureChanged(
                    _budget.UnderPressure ? "began" : "ended",
                    _budget.CurrentBytes,
                    _budget.Last.MemoryLoadBytes,
                    _budget.Last.HighMemoryLoadThresholdBytes);
            }
        }
    }
}
