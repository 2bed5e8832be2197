using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
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
                // A flight that began before a removal or tag invalidation this instance has seen may bring back a
                // removed value: a caller who started after it must not get that, so it starts a flight of its own.
                if (existing is Flight<T> joinable && joinable.StartedAt > _tags.Latest && !IsInvalidatedSince(key, joinable.StartedAt)
                    && joinable.TryJoin())
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

                // overtaken by a removal, or every caller of that flight cancelled: replace it
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
                    // ends (no thread-pool hop through the completion source that joiners wait on), and an L2 hit
                    // suspends in that one state machine.
                    return flight.RunAsync(state, factory, forStarter: true);
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
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.flight.RunInBackground(s.state, s.factory), (flight, state, factory), preferLocal: false);
        }
        else
        {
            flight.RunInBackground(state, factory);
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
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.flight.RunInBackground(s.state, s.factory), (flight, state, factory), preferLocal: false);
        }
    }

    /// <summary>
    /// Steps 4 and 5 of the read path, once the tier has answered: an L2 hit is deserialized and, unless the flags say
    /// not to, fills L1 for the local expiration but never beyond the entry's remaining overall lifetime. False (a
    /// counted miss) when the tier found nothing, when an invalidation overtook the read, or when the value does not
    /// deserialize. Synchronous: the flight awaits the tier itself (one suspension per read).
    /// </summary>
    private bool TryAcceptL2Hit<T>(
        string key, int dataType, HybridCacheEntryFlags flags, HybridCacheEntryOptions? options, long readStarted, DistributedCacheHit? found,
        [MaybeNullWhen(false)] out T value, out ReadOnlyMemory<byte>? payload)
    {
        value = default;
        payload = null;
        if (found is not { } hit)
        {
            _counters.Increment(dataType, CounterKind.L2Miss);
            return false;
        }

        // An invalidation this instance saw while the read was in flight (a removal or pattern that may have reached
        // Redis after the GET), or a tag time it knows and the tier's copy does not show yet: such a hit is a miss.
        // The tier read the clock (UTC and timestamp together) as it decoded the entry; those readings place the
        // entry's creation on this clock's timeline and bound its L1 lifetime.
        var now = hit.ReadAtTimestamp;
        var createdAt = now - ToTimestampSpan(hit.ReadAt - hit.CreatedAt);
        if (IsInvalidatedSince(key, readStarted) || _tags.IsInvalid(createdAt, hit.Tags))
        {
            _counters.Increment(dataType, CounterKind.L2Miss);
            return false;
        }

        try
        {
            value = _serializers.Get<T>().Deserialize(new System.Buffers.ReadOnlySequence<byte>(hit.Payload))!;
        }
        catch (Exception ex)
        {
            _logger.DeserializationFailed(ex, _dataTypes.Names[dataType], typeof(T).Name);
            _counters.Increment(dataType, CounterKind.L2Miss);
            return false;
        }

        _counters.Increment(dataType, CounterKind.L2Hit);
        // mutable types: joined callers deserialize their own copies from the payload (no copy needed for that)
        payload = ImmutableTypeCache<T>.IsImmutable ? (ReadOnlyMemory<byte>?)null : hit.Payload;
        if ((flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0)
        {
            var remaining = hit.ExpiresAt - hit.ReadAt;
            var local = LocalExpiration(options);
            var lifetime = ToTimestampSpan(remaining < local ? remaining : local);
            if (lifetime > 0)
            {
                var expiresAt = now + lifetime;
                var refreshAt = _options.EagerRefreshThreshold >= 1 ? long.MaxValue : now + (long)(lifetime * _options.EagerRefreshThreshold);
                var weight = hit.Payload.Length + EntryOverheadBytes + (key.Length * 2L);
                foreach (var tag in hit.Tags)
                {
                    weight += TagOverheadBytes + (tag.Length * 2L);
                }

                var entry = new L1Entry(
                    key, typeof(T), payload is null ? value : null, payload?.ToArray(), weight,
                    new EntryTimes(createdAt, expiresAt, refreshAt, expiresAt + ToTimestampSpan(_options.FailSafeMaxStaleness)), hit.Tags, dataType);
                _l1.Set(entry);
                UndoIfOvertaken(entry, readStarted);
            }
        }

        return true;
    }

    // A flight's key: hashed once when made, not on each of the map's lookup, add and remove.
    private readonly struct FlightKey(string key, HybridCacheEntryFlags flags) : IEquatable<FlightKey>
    {
        private readonly int _hash = HashCode.Combine(key.GetHashCode(), (int)flags);

        public string Key { get; } = key;

        public HybridCacheEntryFlags Flags { get; } = flags;

        public bool Equals(FlightKey other) => _hash == other._hash && Flags == other.Flags && string.Equals(Key, other.Key, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is FlightKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }

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
        // Only a flight whose starter can walk away can ever be cancelled (every caller must leave, and an uncancellable
        // starter or a refresh never does): the others have no token source, so the L2 read and the factory get
        // CancellationToken.None and the Redis command registers no cancellation callback.
        private readonly CancellationTokenSource? _cancellation;

        // Guarded by the flight's lock. The outcome is kept once known, so a caller that joins after the flight ended
        // (it found the flight in the map just before it left) still gets it. The completion source exists only once
        // someone has to wait: an uncancellable starter that runs the flight itself needs none.
        private TaskCompletionSource<Outcome>? _waiters;
        private Outcome _outcome;
        private bool _finished;
        private int _callers;

        /// <summary>A flight's result: the value, and for mutable types the payload each caller deserializes; or its failure.</summary>
        /// <remarks>
        /// <paramref name="ValueIsPrivate"/>: the value was made for this flight and nobody else holds it (an L2 read
        /// deserialized it), so the first caller may take it instead of deserializing another copy.
        /// </remarks>
        private readonly record struct Outcome(T Value, ReadOnlyMemory<byte>? Payload, bool ValueIsPrivate = false, Exception? Error = null)
        {
            public static Outcome Failed(Exception error) => new(default!, null, Error: error);
        }

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

        /// <summary>When the flight began (the cache's timestamp), to compare with removals.</summary>
        public long StartedAt => _createdAt;

        /// <summary>Joins unless the flight has finished or every caller already cancelled (then the factory is being cancelled too).</summary>
        public bool TryJoin()
        {
            lock (this)
            {
                // A finished flight takes no one: its outcome may no longer carry the payload a joiner would read.
                if (_finished || _cancellation is { IsCancellationRequested: true })
                {
                    return false;
                }

                _callers++;
                return true;
            }
        }

        /// <summary>The flight's outcome for a caller that joined it, or a starter that let it run in the background.</summary>
        public ValueTask<T> WaitAsync(CancellationToken cancellationToken)
        {
            Task<Outcome> task;
            lock (this)
            {
                if (_finished)
                {
                    return _outcome.Error is { } error ? ValueTask.FromException<T>(error) : new ValueTask<T>(Resolve(_outcome));
                }

                task = (_waiters ??= new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            return cancellationToken.CanBeCanceled ? WaitCancellableAsync(task, cancellationToken) : WaitUncancellableAsync(task);
        }

        private async ValueTask<T> WaitUncancellableAsync(Task<Outcome> task) => Resolve(await task.ConfigureAwait(false));

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
                if (--_callers == 0 && !_isRefresh && !_finished)
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

        /// <summary>Runs the flight for a starter that does not wait for it (a cancellable starter, a refresh).</summary>
        public void RunInBackground<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory)
        {
            // never throws and its value is not wanted: the outcome reaches the callers through the flight
            var run = RunAsync(state, factory, forStarter: false);
            if (run.IsCompleted)
            {
                _ = run.GetAwaiter().GetResult();
            }
        }

        /// <summary>
        /// The flight's work: the L2 read, then the origin. Its outcome (value, stale value or exception) reaches every
        /// joined caller. With <paramref name="forStarter"/> (an uncancellable starter that awaits the run itself) it
        /// also returns that caller's value or throws the flight's exception; otherwise it returns default and never
        /// throws.
        /// </summary>
        public ValueTask<T> RunAsync<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory, bool forStarter)
        {
            // an uncancellable starter runs this at once, on its own thread: the time it asked is when the run started
            var started = forStarter ? _createdAt : _cache._time.GetTimestamp();

            // Steps 4-5 (L2 read, then L1 fill) belong to the L2 tier; with no L2 there is nothing to read.
            return _cache._l2 is not null && (_key.Flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0
                ? ReadL2Async(state, factory, forStarter, started)
                : ProduceAsync(state, factory, forStarter, started);
        }

        // The L2 read. On a hit this is the only state machine that suspends: the tier's GET is awaited here, and the
        // rest (decode, tag check, deserialize, L1 fill) runs synchronously. A miss goes on to the origin.
        private async ValueTask<T> ReadL2Async<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory, bool forStarter, long started)
        {
            var tier = _cache._l2!;
            ValueTask<DistributedCacheHit?> decoded;
            try
            {
                var pending = tier.BeginGet(_key.Key, Token);
                if (pending.IsSent)
                {
                    StackExchange.Redis.RedisValue reply = default;
                    Exception? failure = null;
                    try
                    {
                        reply = await pending.Reply.ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        failure = ex; // the tier reports it to the breaker and counts it
                    }

                    decoded = tier.EndGetAsync(reply, failure, pending.SentAt, _dataType, Token);
                }
                else
                {
                    decoded = tier.GetAsync(_key.Key, _dataType, Token);
                }
            }
            catch (Exception ex)
            {
                return Fail(ex, forStarter, started);
            }

            if (!decoded.IsCompletedSuccessfully)
            {
                // a tag time read from Redis, the breaker's gate, or a failure: finished elsewhere, so that this state
                // machine does not carry an awaiter of the (large) hit
                return await AfterDecodeAsync(decoded, state, factory, forStarter, started).ConfigureAwait(false);
            }

            return TryAccept(decoded.Result, forStarter, started, out var result) ? result : await ProduceAsync(state, factory, forStarter, started).ConfigureAwait(false);
        }

        private async ValueTask<T> AfterDecodeAsync<TState>(
            ValueTask<DistributedCacheHit?> decoded, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, bool forStarter, long started)
        {
            DistributedCacheHit? hit;
            try
            {
                hit = await decoded.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return Fail(ex, forStarter, started);
            }

            return TryAccept(hit, forStarter, started, out var result) ? result : await ProduceAsync(state, factory, forStarter, started).ConfigureAwait(false);
        }

        // What the tier answered: a hit completes the flight (true); a miss goes on to the origin (false).
        private bool TryAccept(DistributedCacheHit? hit, bool forStarter, long started, out T result)
        {
            T? value;
            ReadOnlyMemory<byte>? payload;
            try
            {
                if (!_cache.TryAcceptL2Hit(_key.Key, _dataType, _key.Flags, _options, started, hit, out value, out payload))
                {
                    result = default!;
                    return false;
                }
            }
            catch (Exception ex)
            {
                result = Fail(ex, forStarter, started);
                return true;
            }

            _cache.RecordDuration(Operation.GetL2, started);
            result = Complete(new Outcome(value!, payload, ValueIsPrivate: true), forStarter);
            return true;
        }

        // The L2 read failed in a way the tier does not absorb (the flight's cancellation, a fault in this code).
        private T Fail(Exception exception, bool forStarter, long started)
        {
            _cache.RecordDuration(Operation.GetOrigin, started);
            return Complete(Outcome.Failed(exception), forStarter);
        }

        // Step 6: the factory (origin), unless the caller asked for cached data only; a stale value when it fails and
        // fail-safe has one.
        private async ValueTask<T> ProduceAsync<TState>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory, bool forStarter, long started)
        {
            var cache = _cache;
            var flags = _key.Flags;
            var l2Write = default(ValueTask);
            Outcome outcome;
            try
            {
                if ((flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
                {
                    outcome = new Outcome(default!, null);
                }
                else
                {
                    T value;
                    Exception? failed = null;
                    try
                    {
                        value = await factory(state, Token).ConfigureAwait(false);
                        cache.CountFactoryCall(_dataType, success: true);
                    }
                    catch (Exception ex)
                    {
                        cache.CountFactoryCall(_dataType, success: false);
                        value = default!;
                        failed = ex;
                    }

                    if (failed is null)
                    {
                        var payload = cache.Store(_key.Key, value, flags, _options, _tags, _createdAt, _dataType, overwrite: false, out l2Write);
                        outcome = new Outcome(value, payload is null ? (ReadOnlyMemory<byte>?)null : payload);
                    }
                    else if (!_isRefresh && cache.TryGetStale<T>(_key.Key, flags, out var stale))
                    {
                        cache.CountStaleServed(_dataType);
                        cache._logger.FactoryFailedStaleServed(failed, cache._dataTypes.Names[_dataType]);
                        outcome = new Outcome(stale, null);
                    }
                    else
                    {
                        if (_isRefresh)
                        {
                            cache._logger.EagerRefreshFailed(failed, cache._dataTypes.Names[_dataType]);
                        }

                        outcome = Outcome.Failed(failed);
                    }
                }
            }
            catch (Exception ex)
            {
                outcome = Outcome.Failed(ex);
            }

            // (the token source has no timer, so it is left to the GC: a late caller may still cancel it)
            cache.RecordDuration(Operation.GetOrigin, started);
            var result = Complete(outcome, forStarter);
            if (!l2Write.IsCompletedSuccessfully)
            {
                // callers have their value: the L2 write finishes on its own (it never throws for Redis trouble)
                _ = ObserveAsync(l2Write);
            }

            return result;
        }

        // Publishes the outcome to every joined caller, then gives the starter that ran the flight its own value
        // (or the flight's exception); a background run gets default.
        private T Complete(Outcome outcome, bool forStarter)
        {
            outcome = Finish(outcome);
            if (!forStarter)
            {
                return default!;
            }

            if (outcome.Error is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }

            return Resolve(outcome);
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

        // Publishes the outcome; returns it as published.
        private Outcome Finish(Outcome outcome)
        {
            // leave the map first: a caller arriving now either finds L1 filled or starts afresh
            _cache._flights.TryRemove(new KeyValuePair<FlightKey, Flight>(_key, this));
            TaskCompletionSource<Outcome>? waiters;
            lock (this)
            {
                _outcome = outcome;
                _finished = true;
                waiters = _waiters;
            }

            if (waiters is null)
            {
                return outcome;
            }

            if (outcome.Error is { } error)
            {
                waiters.TrySetException(error);
                _ = waiters.Task.Exception; // observed here: joiners that cancelled, or a refresh nobody awaits, never read it
            }
            else
            {
                waiters.TrySetResult(outcome);
            }

            return outcome;
        }
    }
}
