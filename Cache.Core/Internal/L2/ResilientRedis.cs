using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Redis;
using Polly;
using Polly.CircuitBreaker;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The cache's one Redis connection behind a Polly.Core circuit breaker, with a per-call timeout. Every
/// operation returns an <see cref="L2Result{T}"/>: the value, or "unavailable" when Redis is not connected yet, the
/// circuit is open, or the call timed out or failed (counted in <c>optimizedcache.l2.errors</c> by operation and
/// logged at debug level without the key). Only the caller's own cancellation throws.
/// </summary>
/// <remarks>
/// <para>The client connects in the background with <c>abortConnect=false</c> semantics, so building the cache never
/// fails or waits because Redis is down; until the first connection completes every call is unavailable.</para>
/// <para>While the circuit is open calls are refused without touching Polly or the network. After
/// <see cref="DistributedCacheResilienceOptions.BreakDuration"/> one probe is let through (half-open); a reconnect of
/// the client closes the circuit at once (<see cref="ConnectionRestored"/>), so L2 is back as soon as Redis is.</para>
/// <para>Timing (timeouts, breaker windows, reconnect backoff) runs on the system clock: it measures the network,
/// not the cache's logical time, and a manual test clock must not stall reconnects.</para>
/// </remarks>
internal sealed class ResilientRedis : IAsyncDisposable
{
    /// <summary>Operation tag values of <c>optimizedcache.l2.errors</c>.</summary>
    public static class Operations
    {
        public const string Get = "get";
        public const string MultiGet = "mget";
        public const string Set = "set";
        public const string Unlink = "unlink";
        public const string Scan = "scan";
        public const string Publish = "publish";
        public const string TagGet = "tag_get";
        public const string TagSet = "tag_set";
        public const string PatternSet = "pattern_set";
        public const string PatternGet = "pattern_get";
    }

    /// <summary>Replies of <see cref="SetUnlessRemovedAsync"/>.</summary>
    public static class WriteOutcome
    {
        /// <summary>Written.</summary>
        public const long Written = 1;

        /// <summary>Refused: the key was removed at or after the value's read started.</summary>
        public const long KeyRemoved = -1;

        /// <summary>Refused: the value's read started before the overflow floor (folded removals).</summary>
        public const long BeforeFloor = -2;

        /// <summary>Not written: pattern invalidations were recorded since the caller's snapshot of them.</summary>
        public const long PatternsChanged = -3;
    }

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

    // KEYS: the entries, then the key tombstone set and the floor. ARGV: now (Unix ms), window (ms), cap, then the
    // cache keys (tombstone members) in the entries' order. The tombstones and the UNLINK are one atomic step: no
    // conditional write can land between them.
    private static readonly RedisScript RemoveWithTombstones = new(TrimTombstones + "\n" + """
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
        """);

    // KEYS: pattern tombstone set, floor, pattern sequence. ARGV: pattern, now (Unix ms), window (ms), cap.
    // Returns the new sequence number: every replica's next conditional write sees that its snapshot is out of date.
    private static readonly RedisScript RecordPattern = new(TrimTombstones + "\n" + """
        local now = tonumber(ARGV[2])
        local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not current or tonumber(current) < now then
          redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        end
        trim(KEYS[1], KEYS[2], now, tonumber(ARGV[3]), tonumber(ARGV[4]))
        return redis.call('INCR', KEYS[3])
        """);

    // KEYS: pattern tombstone set, pattern sequence. Returns { sequence, { pattern, time, pattern, time, ... } }.
    private static readonly RedisScript ReadPatterns = new("""
        return { redis.call('GET', KEYS[2]) or '0', redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
        """);

    // KEYS: entry, key tombstone set, floor, pattern sequence. ARGV: value, ttl (ms), read start (Unix ms), cache key,
    // the pattern sequence the caller checked the key against, overwrite (1 or 0), tombstone window (ms), cap. Writes
    // only if nothing removed the key since the read started; see WriteOutcome for the replies. An overwrite (an
    // explicit SetAsync) also records a key tombstone at its own start, after the checks: a value read from the origin
    // before it and written back later is refused like one read before a removal. Against a key tombstone an overwrite
    // is refused only when strictly older, so two overwrites in the same millisecond both land (the later one wins).
    private static readonly RedisScript SetUnlessRemoved = new(TrimTombstones + "\n" + """
        local created = tonumber(ARGV[3])
        local overwrite = ARGV[6] == '1'
        local floor = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
        if created <= floor then return -2 end
        local removed = redis.call('ZSCORE', KEYS[2], ARGV[4])
        if removed and (created < tonumber(removed) or (created == tonumber(removed) and not overwrite)) then return -1 end
        if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[5] then return -3 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if overwrite then
          if not removed or tonumber(removed) < created then
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
          end
          trim(KEYS[2], KEYS[3], created, tonumber(ARGV[7]), tonumber(ARGV[8]))
        end
        return 1
        """);

    // Moves a tag's invalidation time forward only (a late writer never rewinds it) and refreshes its expiry.
    private static readonly RedisScript AdvanceTagTime = new("""
        local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
        local proposed = tonumber(ARGV[1])
        if proposed > current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return proposed
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return current
        """);

    // The most failures one trip hands to the breaker. Polly has seen no outcome since the circuit last closed, so it
    // opens at its minimum throughput; this only bounds the loop.
    private const int MaximumStallFailures = 100_000;

    private static readonly RedisTimeoutException StallException = new("Redis answered no command for the stall threshold of the sampling window.");

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly CircuitBreakerManualControl _manualControl = new();
    private readonly Counter<long> _errors;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly TimeSpan _timeout;
    private readonly StallTracker _stalls;
    private readonly ClosedCircuitHealth _health;
    // Times a call's wait for the stall rule, which only asks whether it reached half the timeout: the coarse tick
    // clock (about 10 ns a read against 30 ns) when its resolution (a few ms, 16 ms on Windows) is small beside that.
    private readonly CoarseClock? _callClock;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task<RedisClient?> _connecting;
    private volatile RedisClient? _client;
    private long _openUntil; // system-clock timestamp until which calls are refused without asking Polly; 0 = not open
    private volatile bool _closed = true; // mirrors the breaker (set in its callbacks): only a closed circuit skips the gate
    private int _disposed;

    /// <summary>Starts connecting in the background and builds the pipeline.</summary>
    /// <param name="connection">The parsed connection options (copied; <c>abortConnect</c> is forced off, the reconnect delay capped).</param>
    /// <param name="options">Timeout and circuit-breaker settings (validated by the cache's options validator).</param>
    /// <param name="meter">The cache's meter: the circuit-state gauge and the error counter are created on it.</param>
    /// <param name="loggerFactory">Loggers for this wrapper and the Redis client.</param>
    public ResilientRedis(RedisConnectionOptions connection, DistributedCacheResilienceOptions options, Meter meter, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger<ResilientRedis>();
        _timeout = options.Timeout;
        _stalls = new StallTracker(options.Timeout, options.SamplingDuration, options.FailureRatio, _clock);
        _health = new ClosedCircuitHealth(options.SamplingDuration, options.FailureRatio, options.MinimumThroughput);
        _callClock = options.Timeout >= TimeSpan.FromMilliseconds(100) ? CoarseClock.For(_clock) : null;
        var breakDuration = options.BreakDuration;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = _clock }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                SamplingDuration = options.SamplingDuration,
                MinimumThroughput = options.MinimumThroughput,
                BreakDuration = breakDuration,
                StateProvider = _circuit,
                ManualControl = _manualControl,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsOutage(e)),
                OnOpened = args =>
                {
                    _closed = false;
                    _stalls.Reset();
                    _health.Reset();
                    Volatile.Write(ref _openUntil, _clock.GetTimestamp() + (long)(args.BreakDuration.TotalSeconds * _clock.TimestampFrequency));
                    Log.L2CircuitOpened(_logger, (long)args.BreakDuration.TotalMilliseconds, args.Outcome.Exception?.GetType().Name ?? "none");
                    RaiseCircuitChanged(L2CircuitState.Open);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    _closed = false;
                    Volatile.Write(ref _openUntil, 0);
                    RaiseCircuitChanged(L2CircuitState.HalfOpen);
                    return default;
                },
                OnClosed = _ =>
                {
                    _health.Reset(); // before calls count again: the closed circuit is judged afresh, as Polly's own metrics are
                    Volatile.Write(ref _openUntil, 0);
                    _closed = true;
                    Log.L2CircuitClosed(_logger);
                    RaiseCircuitChanged(L2CircuitState.Closed);
                    return default;
                },
            })
            .Build();

        _errors = meter.CreateCounter<long>(OptimizedCacheMetrics.L2Errors, "{error}", "Failed L2 calls, by operation.");
        meter.CreateObservableGauge(OptimizedCacheMetrics.L2CircuitState, () => (int)CircuitState, "{state}", "The L2 circuit breaker: 0 closed, 1 half-open, 2 open.");

        var own = connection.Clone();
        own.AbortOnConnectFail = false;

        // The per-call timeout is the client's own command deadline (one timer per connection scans the FIFO), not a
        // timer per call in the pipeline: a command past it fails with RedisTimeoutException, which the breaker counts.
        if (own.AsyncTimeout > options.Timeout)
        {
            own.AsyncTimeout = options.Timeout;
        }

        if (own.ReconnectMaxDelay > options.MaximumReconnectDelay)
        {
            own.ReconnectMaxDelay = options.MaximumReconnectDelay;
            if (own.ReconnectMinDelay > own.ReconnectMaxDelay)
            {
                own.ReconnectMinDelay = own.ReconnectMaxDelay;
            }
        }

        Endpoint = RedisConnectionOptions.FormatEndpoint(own.Endpoints[0]);
        _connecting = ConnectAsync(own, loggerFactory);
    }

    /// <summary>Raised when the connection is lost. Handlers must not block.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionFailed;

    /// <summary>
    /// Raised when the connection comes back after a loss, or connects for the first time after Redis was down at
    /// start-up (pub/sub messages may have been missed meanwhile). The circuit is closed before it is raised.
    /// Handlers must not block.
    /// </summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionRestored;

    /// <summary>Raised when the circuit changes state. Handlers must not block.</summary>
    public event EventHandler<L2CircuitState>? CircuitStateChanged;

    /// <summary>The first configured endpoint (host:port), for health reports; never the password.</summary>
    public string Endpoint { get; }

    /// <summary>The client once the first connection attempt has returned (connected or reconnecting); null before.</summary>
    public RedisClient? Client => _client;

    /// <summary>Completes with the client when the first connection attempt returns (null if disposed first).</summary>
    public Task<RedisClient?> Connection => _connecting;

    /// <summary>Pub/sub on the client's own subscriber connection; null until the client exists.</summary>
    public RedisSubscriber? Subscriber => _client?.Subscriber;

    /// <summary>The connection state; <see cref="RedisConnectionState.Connecting"/> before the first attempt returns.</summary>
    public RedisConnectionState ConnectionState => _client?.State ?? RedisConnectionState.Connecting;

    /// <summary>The circuit breaker's state (an isolated circuit counts as open).</summary>
    public L2CircuitState CircuitState => _circuit.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => L2CircuitState.Closed,
        Polly.CircuitBreaker.CircuitState.HalfOpen => L2CircuitState.HalfOpen,
        _ => L2CircuitState.Open,
    };

    /// <summary>Whether a call made now would be attempted (connected and the circuit not open).</summary>
    public bool IsAvailable => _client is { State: RedisConnectionState.Connected } && !IsOpenNow();

    /// <summary>GET.</summary>
    public ValueTask<L2Result<byte[]?>> GetAsync(string key, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Get, key, static (c, k, t) => c.GetAsync(k, t), cancellationToken);

    /// <summary>
    /// Starts a GET for a caller on the hot path that awaits the reply in its own state machine, so that an L2 read
    /// suspends once rather than once per layer. With the circuit closed the command is sent at once and
    /// <paramref name="reply"/> is the client's pooled pending reply (faulted when sending failed): the caller must
    /// await it, catching its exception, and hand the result to <see cref="EndGet"/>, which reports the outcome to the
    /// breaker and counts a failure exactly as <see cref="GetAsync"/> does. When the call has to pass the breaker's gate
    /// (half-open, or open past its break) the answer is <see cref="GetStart.Gated"/> and nothing is sent: use
    /// <see cref="GetAsync"/>.
    /// </summary>
    /// <param name="keyPrefix">UTF-8 bytes of the key's first part (sent with <paramref name="key"/> as one key, not concatenated here).</param>
    /// <param name="key">The rest of the key.</param>
    /// <param name="cancellationToken">The caller's cancellation (registered on the command).</param>
    /// <param name="reply">The pending reply when <see cref="GetStart.Sent"/>; otherwise default.</param>
    /// <param name="sentAt">When it was sent (this wrapper's clock), to hand back to <see cref="EndGet"/>.</param>
    public GetStart StartGet(ReadOnlyMemory<byte> keyPrefix, string key, CancellationToken cancellationToken, out ValueTask<RedisReply> reply, out long sentAt)
    {
        reply = default;
        sentAt = 0;
        var client = _client;
        if (client is null || IsOpenNow())
        {
            return GetStart.Unavailable;
        }

        if (!_closed)
        {
            return GetStart.Gated;
        }

        sentAt = CallTimestamp();
        try
        {
            reply = client.SendGetAsync(keyPrefix, key, cancellationToken, pooledBulk: true);
        }
        catch (Exception ex)
        {
            reply = ValueTask.FromException<RedisReply>(ex); // not connected, or too many commands wait
        }

        return GetStart.Sent;
    }

    /// <summary>
    /// Ends a GET started by <see cref="StartGet"/>: the reply, or the exception its await threw. The outcome goes to
    /// the breaker (which opens on outages) and a failure is counted and logged; only the caller's own cancellation throws.
    /// The reply is a bulk string (nil when absent) whose value may be in a pooled array (<see cref="RedisReply.TryTakeLease"/>).
    /// </summary>
    public L2Result<RedisReply> EndGet(RedisReply reply, Exception? failure, long sentAt, CancellationToken cancellationToken)
    {
        Outcome<RedisReply> outcome;
        if (failure is not null)
        {
            outcome = Outcome.FromException<RedisReply>(failure);
        }
        else
        {
            try
            {
                outcome = Outcome.FromResult(reply.ThrowIfError("GET"));
            }
            catch (Exception ex)
            {
                outcome = Outcome.FromException<RedisReply>(ex); // an error reply (WRONGTYPE, NOPERM): not an outage
            }
        }

        Report(outcome, sentAt, cancellationToken);
        return Finish(Operations.Get, outcome, cancellationToken);
    }

    /// <summary>What <see cref="StartGet"/> did.</summary>
    public enum GetStart
    {
        /// <summary>Not connected yet, or the circuit is open: the read is a miss.</summary>
        Unavailable,

        /// <summary>Sent: await the reply, then call <see cref="EndGet"/>.</summary>
        Sent,

        /// <summary>The breaker must let the call through first: use <see cref="GetAsync"/>.</summary>
        Gated,
    }

    /// <summary>MGET: one value per key, null where absent.</summary>
    public ValueTask<L2Result<byte[]?[]>> MGetAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.MultiGet, keys, static (c, k, t) => c.MGetAsync(k, t), cancellationToken);

    /// <summary>SET with a PX expiry.</summary>
    public ValueTask<L2Result<bool>> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Set, (key, value, expiry), static (c, s, t) => c.SetAsync(s.key, s.value, s.expiry, cancellationToken: t), cancellationToken);

    /// <summary>UNLINK: how many of the keys existed.</summary>
    public ValueTask<L2Result<long>> UnlinkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Unlink, keys, static (c, k, t) => c.UnlinkAsync(k, t), cancellationToken);

    /// <summary>
    /// One SCAN page: the next cursor (<c>"0"</c> when the scan is complete) and the keys of this page. Start with
    /// cursor <c>"0"</c>; each page is its own resilient call, so an outage stops a scan between pages.
    /// </summary>
    public ValueTask<L2Result<ScanPage>> ScanPageAsync(string cursor, string match, int count, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(cursor);
        ArgumentException.ThrowIfNullOrEmpty(match);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return ExecuteAsync(Operations.Scan, (cursor, match, count), static async (c, s, t) =>
        {
            var reply = await c.ExecuteAsync("SCAN", [s.cursor, "MATCH", s.match, "COUNT", s.count], t).ConfigureAwait(false);
            var page = reply.Elements;
            if (page.Count != 2)
            {
                throw new RedisProtocolException($"SCAN returned {page.Count} elements instead of 2.");
            }

            var keys = page[1].Elements;
            var names = new string[keys.Count];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = keys[i].AsString() ?? string.Empty;
            }

            return new ScanPage(page[0].AsString() ?? "0", names);
        }, cancellationToken);
    }

    /// <summary>PUBLISH: how many subscribers received the message.</summary>
    public ValueTask<L2Result<long>> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Publish, (channel, message), static (c, s, t) => c.PublishAsync(s.channel, s.message, t), cancellationToken);

    /// <summary>Reads tag invalidation times (Unix ms) with one MGET; null where a tag was never invalidated (or holds garbage).</summary>
    public async ValueTask<L2Result<long?[]>> GetTagTimesAsync(IReadOnlyList<string> tagKeys, CancellationToken cancellationToken)
    {
        var read = await MGetAsync(tagKeys, cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            return L2Result<long?[]>.Unavailable;
        }

        var times = new long?[read.Value.Length];
        for (var i = 0; i < times.Length; i++)
        {
            if (read.Value[i] is { } bytes && long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                times[i] = ms;
            }
        }

        return new L2Result<long?[]>(times);
    }

    /// <summary>
    /// Moves a tag's invalidation time forward to <paramref name="unixMilliseconds"/> (never back) and keeps it for
    /// <paramref name="retention"/>; returns the time now stored (later than the one given if another replica wrote
    /// a later one).
    /// </summary>
    public ValueTask<L2Result<long>> SetTagTimeAsync(string tagKey, long unixMilliseconds, TimeSpan retention, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.TagSet, (tagKey, unixMilliseconds, retention), static async (c, s, t) =>
        {
            var reply = await c.EvalAsync(AdvanceTagTime, [s.tagKey], [s.unixMilliseconds, (long)Math.Max(1, s.retention.TotalMilliseconds)], t).ConfigureAwait(false);
            return reply.AsInt64();
        }, cancellationToken);

    /// <summary>
    /// Removes entries and records a removal tombstone for each (atomically, in one script): how many entries existed.
    /// </summary>
    /// <param name="keys">The removal keys: the entries' Redis keys, their cache keys (tombstone members), the tombstone set and the floor.</param>
    /// <param name="unixMilliseconds">The removal time.</param>
    /// <param name="window">How long tombstones are kept.</param>
    /// <param name="capacity">The most tombstones kept; older ones fold into the floor.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    public ValueTask<L2Result<long>> RemoveWithTombstonesAsync(
        RemovalKeys keys, long unixMilliseconds, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Unlink, (keys, unixMilliseconds, window, capacity), static async (c, s, t) =>
        {
            var redisKeys = new string[s.keys.Entries.Count + 2];
            var args = new RedisArg[s.keys.Members.Count + 3];
            args[0] = s.unixMilliseconds;
            args[1] = (long)s.window.TotalMilliseconds;
            args[2] = s.capacity;
            for (var i = 0; i < s.keys.Entries.Count; i++)
            {
                redisKeys[i] = s.keys.Entries[i];
                args[i + 3] = s.keys.Members[i];
            }

            redisKeys[^2] = s.keys.TombstoneSet;
            redisKeys[^1] = s.keys.Floor;
            return (await c.EvalAsync(RemoveWithTombstones, redisKeys, args, t).ConfigureAwait(false)).AsInt64();
        }, cancellationToken);

    /// <summary>
    /// Records a pattern invalidation (before its SCAN starts) and advances the pattern sequence; returns the new
    /// sequence number.
    /// </summary>
    public ValueTask<L2Result<long>> RecordPatternAsync(
        string patternSet, string floor, string sequence, string pattern, long unixMilliseconds, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.PatternSet, (patternSet, floor, sequence, pattern, unixMilliseconds, window, capacity), static async (c, s, t) =>
        {
            var reply = await c.EvalAsync(
                RecordPattern, [s.patternSet, s.floor, s.sequence], [s.pattern, s.unixMilliseconds, (long)s.window.TotalMilliseconds, s.capacity], t).ConfigureAwait(false);
            return reply.AsInt64();
        }, cancellationToken);

    /// <summary>The recorded pattern invalidations (pattern, Unix ms) and the sequence number they are current at, read atomically.</summary>
    public ValueTask<L2Result<(string Sequence, (string Pattern, long UnixMilliseconds)[] Patterns)>> ReadPatternsAsync(
        string patternSet, string sequence, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.PatternGet, (patternSet, sequence), static async (c, s, t) =>
        {
            var reply = await c.EvalAsync(ReadPatterns, [s.patternSet, s.sequence], [], t).ConfigureAwait(false);
            var parts = reply.Elements;
            if (parts.Count != 2)
            {
                throw new RedisProtocolException($"The pattern read returned {parts.Count} elements instead of 2.");
            }

            var flat = parts[1].Elements;
            var patterns = new (string, long)[flat.Count / 2];
            for (var i = 0; i < patterns.Length; i++)
            {
                var ms = double.TryParse(flat[(2 * i) + 1].AsString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var score) ? (long)score : long.MaxValue;
                patterns[i] = (flat[2 * i].AsString() ?? string.Empty, ms);
            }

            return (parts[0].AsString() ?? "0", patterns);
        }, cancellationToken);

    /// <summary>
    /// SET with a PX expiry unless the key was removed (or the floor passed) at or after <paramref name="readStartedUnixMilliseconds"/>,
    /// or pattern invalidations were recorded since <paramref name="patternSequence"/>: one of <see cref="WriteOutcome"/>.
    /// When <paramref name="overwrite"/> (an explicit SetAsync), the written key also gets a tombstone at
    /// <paramref name="readStartedUnixMilliseconds"/> (trimmed to <paramref name="window"/> and <paramref name="capacity"/>
    /// as removals are), so older reads of the key cannot be written over it.
    /// </summary>
    public ValueTask<L2Result<long>> SetUnlessRemovedAsync(
        string entryKey, string member, RemovalKeys removal, ReadOnlyMemory<byte> value, TimeSpan expiry, long readStartedUnixMilliseconds,
        string patternSequence, bool overwrite, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Set, (entryKey, member, removal, value, expiry, readStartedUnixMilliseconds, patternSequence, overwrite, window, capacity), static async (c, s, t) =>
        {
            var reply = await c.EvalAsync(
                SetUnlessRemoved,
                [s.entryKey, s.removal.TombstoneSet, s.removal.Floor, s.removal.Sequence],
                [
                    s.value, (long)Math.Max(1, Math.Ceiling(s.expiry.TotalMilliseconds)), s.readStartedUnixMilliseconds, s.member, s.patternSequence,
                    s.overwrite ? 1L : 0L, (long)s.window.TotalMilliseconds, s.capacity,
                ],
                t).ConfigureAwait(false);
            return reply.AsInt64();
        }, cancellationToken);

    /// <summary>
    /// A PING outside the circuit breaker (for health checks), bounded by the call timeout: the round-trip time, or
    /// null with the reason when Redis did not answer.
    /// </summary>
    public async Task<(TimeSpan? Latency, string? Error)> PingAsync(CancellationToken cancellationToken)
    {
        if (_client is not { } client)
        {
            return (null, "not connected yet");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            return (await client.PingAsync(timeout.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"PING timed out after {_timeout.TotalMilliseconds:0} ms");
        }
        catch (RedisException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>Closes the connection; later calls are unavailable.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposing.Cancel();
        var client = await _connecting.ConfigureAwait(false);
        _client = null;
        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    /// <summary>Failures that say Redis is unreachable or unwell (they feed the breaker); a server error reply does not.</summary>
    internal static bool IsOutage(Exception exception) => exception is RedisConnectionException or RedisTimeoutException
        or RedisProtocolException or IOException or SocketException or ObjectDisposedException;

    // A call's start or end on the clock that times its wait (the two are only ever subtracted from each other).
    private long CallTimestamp() => _callClock?.GetTimestamp() ?? _clock.GetTimestamp();

    private bool IsOpenNow()
    {
        var until = Volatile.Read(ref _openUntil);
        return until != 0 && _clock.GetTimestamp() < until;
    }

    // Closed circuit (the common case): the call runs directly and its outcome is judged by Report (the closed
    // circuit's failure ratio and the stall rule), which opens the breaker when either is reached, without a pass
    // through the pipeline or an async state machine per call. Otherwise (half-open, or open past its break) the call
    // runs inside the pipeline, which lets one probe through and refuses the rest.
    private async ValueTask<L2Result<T>> ExecuteAsync<TState, T>(
        string operation, TState state, Func<RedisClient, TState, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var client = _client;
        if (client is null || IsOpenNow())
        {
            return L2Result<T>.Unavailable;
        }

        if (!_closed)
        {
            return await ExecuteGatedAsync(operation, client, state, call, cancellationToken).ConfigureAwait(false);
        }

        Outcome<T> outcome;
        var started = CallTimestamp();
        try
        {
            outcome = Outcome.FromResult(await call(client, state, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<T>(ex);
        }

        Report(outcome, started, cancellationToken);
        return Finish(operation, outcome, cancellationToken);
    }

    // Judges the outcome of a call made with the circuit closed (sent at <paramref name="started"/>): its share of the
    // failure ratio (ClosedCircuitHealth, in place of a pass through Polly per call), and its wait for the stall
    // tracker. The caller's own cancellation says nothing about Redis and is not counted.
    private void Report<T>(Outcome<T> outcome, long started, CancellationToken cancellationToken)
    {
        if (outcome.Exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (outcome.Exception is { } exception && IsOutage(exception))
        {
            if (_health.RecordFailure())
            {
                Trip(exception);
            }
        }
        else
        {
            _health.RecordSuccess(); // an error reply (WRONGTYPE, NOPERM) is Redis answering: Polly's ShouldHandle ignores it too
        }

        var stalled = outcome.Exception switch
        {
            null => _stalls.RecordAnswer(CallTimestamp() - started),
            RedisTimeoutException => _stalls.RecordTimeout(),
            _ => false,
        };
        if (stalled)
        {
            TripOnStall();
        }
    }

    // Redis has answered nothing for FailureRatio of the sampling window: a stall, whatever share of calls it failed.
    // The calls answered before and between the pauses outnumber the timeouts (a stalled connection carries few calls,
    // a healthy one many), so the call ratio stays low; the stall opens the circuit all the same.
    private void TripOnStall()
    {
        Log.L2Stalled(_logger, (long)_stalls.Window.TotalMilliseconds);
        Trip(StallException);
    }

    // The failures of the calls made with the circuit closed reached the failure ratio: the circuit must open. The
    // failure is handed to the breaker until it opens, so that opening, the break, the half-open probe and the events
    // stay the breaker's own. Polly has seen no outcome since the circuit last closed (its metrics reset then), so it
    // opens at its minimum throughput; the loop is bounded all the same.
    private void Trip(Exception failure)
    {
        var outcome = Outcome.FromException<bool>(failure);
        for (var i = 0; i < MaximumStallFailures && _closed && Volatile.Read(ref _disposed) == 0; i++)
        {
            Record(outcome);
        }
    }

    // Hands an outcome to the breaker through the pipeline with a callback that has already completed (so the pipeline
    // completes synchronously). Its result, a refusal if the circuit opened meanwhile, is not needed.
    private void Record<T>(Outcome<T> outcome)
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        var recorded = _pipeline.ExecuteOutcomeAsync(static (_, o) => ValueTask.FromResult(o), context, outcome);
        if (recorded.IsCompleted)
        {
            _ = recorded.GetAwaiter().GetResult();
            ResilienceContextPool.Shared.Return(context);
        }
        else
        {
            _ = ReturnWhenRecordedAsync(recorded, context);
        }
    }

    private static async Task ReturnWhenRecordedAsync<T>(ValueTask<Outcome<T>> recorded, ResilienceContext context)
    {
        try
        {
            await recorded.ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<L2Result<T>> ExecuteGatedAsync<TState, T>(
        string operation, RedisClient client, TState state, Func<RedisClient, TState, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        Outcome<T> outcome;
        try
        {
            outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, s) =>
                {
                    try
                    {
                        return Outcome.FromResult(await s.call(s.client, s.state, ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<T>(ex);
                    }
                },
                context,
                (client, state, call)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        return Finish(operation, outcome, cancellationToken);
    }

    private L2Result<T> Finish<T>(string operation, Outcome<T> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is not { } exception)
        {
            return new L2Result<T>(outcome.Result!);
        }

        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        if (exception is BrokenCircuitException)
        {
            return L2Result<T>.Unavailable; // refused by the breaker (half-open, probe in flight): not a new error
        }

        _errors.Add(1, new KeyValuePair<string, object?>(OptimizedCacheMetrics.OperationTag, operation));
        Log.L2CallFailed(_logger, operation, exception.GetType().Name, exception.Message);
        return L2Result<T>.Unavailable;
    }

    private async Task<RedisClient?> ConnectAsync(RedisConnectionOptions options, ILoggerFactory loggerFactory)
    {
        await Task.Yield(); // never on the constructor's thread: building the cache does not wait for Redis
        try
        {
            var client = await RedisClient.ConnectAsync(options, loggerFactory, _clock, _disposing.Token).ConfigureAwait(false);
            client.ConnectionFailed += (_, e) => Raise(ConnectionFailed, e);
            client.ConnectionRestored += (_, e) => OnRestored(e);
            if (Volatile.Read(ref _disposed) != 0)
            {
                await client.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            _client = client;
            Log.L2Connecting(_logger, Endpoint, client.State.ToString());
            return client;
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            // Only invalid options get here (they are validated at start-up); the cache stays L1-only.
            Log.L2ConnectFailed(_logger, Endpoint, ex.GetType().Name, ex.Message);
            return null;
        }
    }

    private void OnRestored(RedisConnectionEventArgs e)
    {
        // Redis is back: do not wait for the breaker's probe.
        if (_circuit.CircuitState != Polly.CircuitBreaker.CircuitState.Closed)
        {
            try
            {
                _manualControl.CloseAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
                // disposing
            }
        }

        Raise(ConnectionRestored, e);
    }

    private void Raise<TArgs>(EventHandler<TArgs>? handler, TArgs args)
    {
        if (handler is null)
        {
            return;
        }

        foreach (var one in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler<TArgs>)one)(this, args);
            }
            catch (Exception ex)
            {
                Log.L2EventHandlerFailed(_logger, ex);
            }
        }
    }

    private void RaiseCircuitChanged(L2CircuitState state) => Raise(CircuitStateChanged, state);
}

/// <summary>
/// The Redis keys of removal tombstones: the entries to remove and their cache keys (empty lists when only the
/// structure keys are needed), the key tombstone set, the floor, and the pattern sequence.
/// </summary>
internal readonly record struct RemovalKeys(IReadOnlyList<string> Entries, IReadOnlyList<string> Members, string TombstoneSet, string Floor, string Sequence);

/// <summary>One page of a SCAN: the cursor to continue from (<c>"0"</c> when done) and the keys found.</summary>
internal readonly record struct ScanPage(string Cursor, string[] Keys);
