using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core;

// Single flight per (key, flags): the first caller of a cold key starts the flight, everyone else joins it. The
// factory's token is cancelled only when every joined caller has cancelled. The outcome (value, stale value or
// exception) reaches every caller; an exception is never cached. Eager refresh runs as a flight with no callers.
public sealed partial class OptimizedHybridCache
{
    private readonly ConcurrentDictionary<FlightKey, Flight> _flights = new();

    /// <summary>Flights in progress (tests check that none leak).</summary>
    internal int FlightCount => _flights.Count;

    private ValueTask<T> JoinFlightAsync<TState, T>(
        string key, HybridCacheEntryFlags flags, int dataType, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, long now, CancellationToken cancellationToken)
    {
        var flightKey = new FlightKey(key, flags);
        while (true)
        {
            if (_flights.TryGetValue(flightKey, out var existing))
            {
                if (existing is Flight<T> joinable && joinable.TryJoin())
                {
                    return joinable.WaitAsync(cancellationToken);
                }

                if (existing is not Flight<T>)
                {
                    // the same key read as another type at the same time: run apart, uncoordinated
                    var apart = new Flight<T>(this, flightKey, dataType, ValidateTags(tags), options, now, isRefresh: false, cancellationToken.CanBeCanceled);
                    Start(apart, state, factory, cancellationToken);
                    return apart.WaitAsync(cancellationToken);
                }

                // every caller of that flight cancelled: replace it
                var replacement = new Flight<T>(this, flightKey, dataType, ValidateTags(tags), options, now, isRefresh: false, cancellationToken.CanBeCanceled);
                if (_flights.TryUpdate(flightKey, replacement, existing))
                {
                    Start(replacement, state, factory, cancellationToken);
                    return replacement.WaitAsync(cancellationToken);
                }

                continue;
            }

            var flight = new Flight<T>(this, flightKey, dataType, ValidateTags(tags), options, now, isRefresh: false, cancellationToken.CanBeCanceled);
            if (_flights.TryAdd(flightKey, flight))
            {
                if (!cancellationToken.CanBeCanceled)
                {
                    // A starter that cannot walk away awaits the run itself: its continuation runs where the run
                    // ends (no thread-pool hop through the outcome's completion source, which joiners use).
                    return flight.RunAndWaitAsync(state, factory);
                }

                Start(flight, state, factory, cancellationToken);
                return flight.WaitAsync(cancellationToken);
            }
        }
    }

    private static void Start<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CancellationToken callerToken)
    {
        if (callerToken.CanBeCanceled)
        {
            // the starter may walk away; the work must not depend on its stack
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.flight.RunAsync(s.state, s.factory), (flight, state, factory), preferLocal: false);
        }
        else
        {
            _ = flight.RunAsync(state, factory);
        }
    }

    private void TryStartRefresh<TState, T>(
        L1Entry entry, HybridCacheEntryFlags flags, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags)
    {
        var flightKey = new FlightKey(entry.Key, flags);
        if (!entry.TryBeginRefresh() || _flights.ContainsKey(flightKey) || (flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
        {
            return;
        }

        string[] tagArray;
        try
        {
            tagArray = tags is null ? entry.Tags : ValidateTags(tags);
        }
        catch (ArgumentException)
        {
            return; // the read itself succeeded; bad tags only cancel the refresh
        }

        var flight = new Flight<T>(this, flightKey, entry.DataType, tagArray, options, _time.GetTimestamp(), isRefresh: true, cancellable: false);
        if (_flights.TryAdd(flightKey, flight))
        {
            Interlocked.Increment(ref _eagerRefreshes);
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.flight.RunAsync(s.state, s.factory), (flight, state, factory), preferLocal: false);
        }
    }

    /// <summary>
    /// Steps 4 and 5 of the read path: an L2 hit is deserialized and, unless the flags say not to, fills L1 for
    /// the local expiration but never beyond the entry's remaining overall lifetime. Only called with an L2 tier.
    /// </summary>
    private async ValueTask<(bool Found, T Value, ReadOnlyMemory<byte>? Payload)> TryReadL2Async<T>(
        string key, int dataType, HybridCacheEntryFlags flags, HybridCacheEntryOptions? options, CancellationToken cancellationToken)
    {
        var readStarted = _time.GetTimestamp();
        var hit = await _l2!.GetAsync(key, dataType, cancellationToken).ConfigureAwait(false);
        if (hit is null)
        {
            _counters.Increment(dataType, CounterKind.L2Miss);
            return default;
        }

        // An invalidation this instance saw while the read was in flight (a removal or pattern that may have reached
        // Redis after the GET), or a tag time it knows and the tier's copy does not show yet: such a hit is a miss.
        if (IsInvalidatedSince(key, readStarted)
            || _tags.IsInvalid(_time.GetTimestamp() - ToTimestampSpan(_time.GetUtcNow() - hit.CreatedAt), hit.Tags))
        {
            _counters.Increment(dataType, CounterKind.L2Miss);
            return default;
        }

        T value;
        try
        {
            value = _serializers.Get<T>().Deserialize(new System.Buffers.ReadOnlySequence<byte>(hit.Payload));
        }
        catch (Exception ex)
        {
            _logger.DeserializationFailed(ex, _dataTypes.Names[dataType], typeof(T).Name);
            _counters.Increment(dataType, CounterKind.L2Miss);
            return default;
        }

        _counters.Increment(dataType, CounterKind.L2Hit);
        // mutable types: joined callers deserialize their own copies from the payload (no copy needed for that)
        ReadOnlyMemory<byte>? payload = ImmutableTypeCache<T>.IsImmutable ? (ReadOnlyMemory<byte>?)null : hit.Payload;
        if ((flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0)
        {
            var now = _time.GetTimestamp();
            var remaining = hit.ExpiresAt - _time.GetUtcNow();
            var local = LocalExpiration(options);
            var lifetime = ToTimestampSpan(remaining < local ? remaining : local);
            if (lifetime > 0)
            {
                var createdAt = now - ToTimestampSpan(_time.GetUtcNow() - hit.CreatedAt);
                var expiresAt = now + lifetime;
                var refreshAt = _options.EagerRefreshThreshold >= 1 ? long.MaxValue : now + (long)(lifetime * _options.EagerRefreshThreshold);
                var weight = hit.Payload.Length + EntryOverheadBytes + (key.Length * 2L) + hit.Tags.Sum(t => TagOverheadBytes + (t.Length * 2L));
                var entry = new L1Entry(
                    key, typeof(T), payload is null ? value : null, payload?.ToArray(), weight,
                    new EntryTimes(createdAt, expiresAt, refreshAt, expiresAt + ToTimestampSpan(_options.FailSafeMaxStaleness)), hit.Tags, dataType);
                _l1.Set(entry);
                UndoIfOvertaken(entry, readStarted);
            }
        }

        return (true, value, payload);
    }

    private readonly record struct FlightKey(string Key, HybridCacheEntryFlags Flags);

    private abstract class Flight;

    private sealed class Flight<T> : Flight
    {
        private readonly OptimizedHybridCache _cache;
        private readonly FlightKey _key;
        private readonly int _dataType;
        private readonly string[] _tags;
        private readonly HybridCacheEntryOptions? _options;
        private readonly long _createdAt;
        private readonly bool _isRefresh;
        private readonly TaskCompletionSource<Outcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        // Only a flight whose starter can walk away can ever be cancelled (every caller must leave, and an uncancellable
        // starter or a refresh never does): the others have no token source, so the L2 read and the factory get
        // CancellationToken.None and the Redis command registers no cancellation callback.
        private readonly CancellationTokenSource? _cancellation;
        private int _callers;

        /// <summary>A flight's result: the value, and for mutable types the payload each caller deserializes.</summary>
        /// <remarks>
        /// <paramref name="ValueIsPrivate"/>: the value was made for this flight and nobody else holds it (an L2 read
        /// deserialized it), so the first caller may take it instead of deserializing another copy.
        /// </remarks>
        private readonly record struct Outcome(T Value, ReadOnlyMemory<byte>? Payload, bool ValueIsPrivate = false);

        private int _privateValueTaken;

        public Flight(OptimizedHybridCache cache, FlightKey key, int dataType, string[] tags, HybridCacheEntryOptions? options, long createdAt, bool isRefresh, bool cancellable)
        {
            _cancellation = cancellable && !isRefresh ? new CancellationTokenSource() : null;
            _cache = cache;
            _key = key;
            _dataType = dataType;
            _tags = tags;
            _options = options;
            _createdAt = createdAt;
            _isRefresh = isRefresh;
            _callers = isRefresh ? 0 : 1;
        }

        private CancellationToken Token => _cancellation?.Token ?? CancellationToken.None;

        /// <summary>Joins unless every caller already cancelled (then the factory is being cancelled too).</summary>
        public bool TryJoin()
        {
            lock (this)
            {
                if (_cancellation is { IsCancellationRequested: true })
                {
                    return false;
                }

                _callers++;
                return true;
            }
        }

        public ValueTask<T> WaitAsync(CancellationToken cancellationToken)
        {
            var task = _outcome.Task;
            if (task.IsCompletedSuccessfully)
            {
                return new ValueTask<T>(Resolve(task.Result));
            }

            return cancellationToken.CanBeCanceled ? WaitCancellableAsync(task, cancellationToken) : WaitUncancellableAsync(task);
        }

        private async ValueTask<T> WaitUncancellableAsync(Task<Outcome> task) => Resolve(await task.ConfigureAwait(false));

        /// <summary>Runs the flight and returns its outcome to the starter (which has no cancellation token).</summary>
        public ValueTask<T> RunAndWaitAsync<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory)
        {
            var run = RunAsync(state, factory);
            return run.IsCompleted ? WaitAsync(CancellationToken.None) : AwaitRunAsync(run);
        }

        private async ValueTask<T> AwaitRunAsync(Task run)
        {
            await run.ConfigureAwait(false);
            return await WaitAsync(CancellationToken.None).ConfigureAwait(false); // completed by the run: no wait
        }

        private async ValueTask<T> WaitCancellableAsync(Task<Outcome> task, CancellationToken cancellationToken)
        {
            Outcome outcome;
            try
            {
                outcome = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !task.IsCompleted)
            {
                Leave();
                throw;
            }

            return Resolve(outcome);
        }

        private void Leave()
        {
            lock (this)
            {
                if (--_callers == 0 && !_isRefresh && !_outcome.Task.IsCompleted)
                {
                    _cancellation?.Cancel();
                }
            }
        }

        // Immutable types share the instance; mutable ones get a fresh copy per caller from the payload (the first
        // caller of an L2 read takes the copy the read deserialized).
        private T Resolve(Outcome outcome)
        {
            if (outcome.Payload is { } payload && !(outcome.ValueIsPrivate && Interlocked.Exchange(ref _privateValueTaken, 1) == 0))
            {
                return _cache._serializers.Get<T>().Deserialize(new System.Buffers.ReadOnlySequence<byte>(payload));
            }

            return outcome.Value;
        }

        public async Task RunAsync<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory)
        {
            var cache = _cache;
            var flags = _key.Flags;
            var started = cache._time.GetTimestamp();
            var tier = "origin";
            try
            {
                // Steps 4-5 (L2 read, then L1 fill) belong to the L2 tier; with no L2 there is nothing to read.
                if (cache._l2 is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0
                    && await cache.TryReadL2Async<T>(_key.Key, _dataType, flags, _options, Token).ConfigureAwait(false) is { Found: true } fromL2)
                {
                    tier = "l2";
                    Complete(new Outcome(fromL2.Value, fromL2.Payload, ValueIsPrivate: true));
                    return;
                }

                // Step 6: the factory (origin), unless the caller asked for cached data only.
                if ((flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
                {
                    tier = "none";
                    Complete(new Outcome(default!, null));
                    return;
                }

                T value;
                try
                {
                    value = await factory(state, Token).ConfigureAwait(false);
                    cache.CountFactoryCall(_dataType, success: true);
                }
                catch (Exception ex)
                {
                    cache.CountFactoryCall(_dataType, success: false);
                    if (!_isRefresh && cache.TryGetStale<T>(_key.Key, flags, out var stale))
                    {
                        cache.CountStaleServed(_dataType);
                        cache._logger.FactoryFailedStaleServed(ex, cache._dataTypes.Names[_dataType]);
                        Complete(new Outcome(stale, null));
                        return;
                    }

                    if (_isRefresh)
                    {
                        cache._logger.EagerRefreshFailed(ex, cache._dataTypes.Names[_dataType]);
                    }

                    Fail(ex);
                    return;
                }

                var payload = cache.Store(_key.Key, value, flags, _options, _tags, _createdAt, _dataType, overwrite: false, out var l2Write);
                Complete(new Outcome(value, payload is null ? (ReadOnlyMemory<byte>?)null : payload));
                if (!l2Write.IsCompletedSuccessfully)
                {
                    // callers have their value: the L2 write finishes on its own (it never throws for Redis trouble)
                    _ = ObserveAsync(l2Write);
                }
            }
            catch (Exception ex)
            {
                Fail(ex);
            }
            finally
            {
                // (the token source has no timer, so it is left to the GC: a late caller may still cancel it)
                cache.RecordDuration(tier == "l2" ? Operation.GetL2 : Operation.GetOrigin, started);
            }
        }

        private static async Task ObserveAsync(ValueTask write)
        {
            try
            {
                await write.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // nothing to report to: the L2 tier counts and logs its own failures
            }
        }

        private void Complete(Outcome outcome)
        {
            // leave the map first: a caller arriving now either finds L1 filled or starts afresh
            _cache._flights.TryRemove(new KeyValuePair<FlightKey, Flight>(_key, this));
            _outcome.TrySetResult(outcome);
        }

        private void Fail(Exception exception)
        {
            _cache._flights.TryRemove(new KeyValuePair<FlightKey, Flight>(_key, this));
            if (_outcome.TrySetException(exception) && _isRefresh)
            {
                _ = _outcome.Task.Exception; // nobody awaits a refresh: observe it here
            }
        }
    }
}
