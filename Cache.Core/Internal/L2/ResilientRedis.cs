using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The cache's Redis connection (a StackExchange.Redis multiplexer) behind a Polly.Core circuit breaker, with a
/// deadline on every call. Every operation returns an <see cref="L2Result{T}"/>: the value, or "unavailable" when
/// Redis is not connected yet, the circuit is open, or the call missed its deadline or failed (counted in
/// <c>optimizedcache.l2.errors</c> by operation and logged at debug level without the key). Only the caller's own
/// cancellation throws.
/// </summary>
/// <remarks>
/// <para>The multiplexer is obtained in the background (connected from a connection string with
/// <c>abortConnect=false</c>, or taken from the container), so building the cache never fails or waits because Redis
/// is down; until it exists every call is unavailable.</para>
/// <para>The deadline (<see cref="DistributedCacheResilienceOptions.Timeout"/>) is the cache's own, not the
/// multiplexer's: StackExchange.Redis checks its async timeout on a heartbeat of about a second, so a frozen Redis
/// would hold callers that long. GETs are coalesced (<see cref="GetCoalescer"/>), whose one timer enforces the deadline
/// for a whole batch; other calls wait with <see cref="Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/>.
/// A call past its deadline is abandoned (the multiplexer completes it later) and counted as a timeout.</para>
/// <para>While the circuit is open calls are refused without touching Polly or the network. After
/// <see cref="DistributedCacheResilienceOptions.BreakDuration"/> one probe is let through (half-open); a reconnect
/// closes the circuit at once (<see cref="ConnectionRestored"/>), so L2 is back as soon as Redis is.</para>
/// <para>On a Redis Cluster, multi-key commands are split by hash slot and SCAN runs on every primary.</para>
/// <para>Timing (deadlines, breaker windows) runs on the system clock: it measures the network, not the cache's
/// logical time, and a manual test clock must not stall it.</para>
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

    // The most failures one trip hands to the breaker. Polly has seen no outcome since the circuit last closed, so it
    // opens at its minimum throughput; this only bounds the loop.
    private const int MaximumStallFailures = 100_000;

    private static readonly TimeoutException StallException = new("Redis answered no command for the stall threshold of the sampling window.");

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly CircuitBreakerManualControl _manualControl = new();
    private readonly Counter<long> _errors;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly TimeSpan _timeout;
    private readonly StallTracker _stalls;
    private readonly ClosedCircuitHealth _health;
    private readonly bool _ownsConnection;
    private readonly string _endpoint;
    // Times a call's wait for the stall rule, which only asks whether it reached half the timeout: the coarse tick
    // clock (about 10 ns a read against 30 ns) when its resolution (a few ms, 16 ms on Windows) is small beside that.
    private readonly CoarseClock? _callClock;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task<IConnectionMultiplexer?> _connecting;
    private volatile IConnectionMultiplexer? _multiplexer;
    private volatile IDatabase? _database;
    private volatile GetCoalescer? _gets;
    private volatile bool _cluster;
    private PrimarySwitchDetector? _primaries;
    private long _openUntil; // system-clock timestamp until which calls are refused without asking Polly; 0 = not open
    private volatile bool _closed = true; // mirrors the breaker (set in its callbacks): only a closed circuit skips the gate
    private int _disposed;

    /// <summary>Starts obtaining the multiplexer in the background and builds the pipeline.</summary>
    /// <param name="connect">Obtains the multiplexer (connects, or resolves it from the container); may take long or fail, and is retried.</param>
    /// <param name="ownsConnection">Whether disposing this closes the multiplexer (false when the container owns it).</param>
    /// <param name="endpoint">The endpoint to name in health reports and logs (host:port; never the password).</param>
    /// <param name="options">Deadline and circuit-breaker settings (validated by the cache's options validator).</param>
    /// <param name="meter">The cache's meter: the circuit-state gauge and the error counter are created on it.</param>
    /// <param name="loggerFactory">Loggers for this wrapper.</param>
    public ResilientRedis(
        Func<CancellationToken, Task<IConnectionMultiplexer>> connect, bool ownsConnection, string endpoint,
        DistributedCacheResilienceOptions options, Meter meter, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger<ResilientRedis>();
        _timeout = options.Timeout;
        _ownsConnection = ownsConnection;
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
        _endpoint = endpoint;
        _connecting = ConnectAsync(connect);
    }

    /// <summary>Raised when a connection to a Redis server is lost. Handlers must not block.</summary>
    public event EventHandler? ConnectionFailed;

    /// <summary>
    /// Raised when a connection comes back after a loss, and when the cluster or primary changes (pub/sub messages
    /// may have been missed meanwhile).
    /// The circuit is closed before it is raised. Handlers must not block.
    /// </summary>
    public event EventHandler? ConnectionRestored;

    /// <summary>
    /// Raised when a primary is not the one seen before: a failover promoted a replica, a Sentinel switched, a primary
    /// restarted (its replication offset went back) or a primary was added. Writes the former primary acknowledged may be lost (Redis
    /// replicates asynchronously). Not raised for the first primaries seen. Handlers must not block.
    /// </summary>
    public event EventHandler? PrimaryChanged;

    /// <summary>Raised when the circuit changes state. Handlers must not block.</summary>
    public event EventHandler<L2CircuitState>? CircuitStateChanged;

    /// <summary>The endpoint named in health reports (host:port; the first one of the multiplexer once it exists); never the password.</summary>
    public string Endpoint => _multiplexer?.GetEndPoints() is [var first, ..] ? RedisConnectionString.Format(first) : _endpoint;

    /// <summary>The multiplexer once obtained; null before.</summary>
    public IConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <summary>Completes with the multiplexer once obtained (null if disposed first).</summary>
    public Task<IConnectionMultiplexer?> Connection => _connecting;

    /// <summary>Whether Redis runs as a cluster (multi-key commands are split by slot).</summary>
    public bool IsCluster => _cluster;

    /// <summary>The connection state for health reports: connecting, connected or disconnected.</summary>
    public string ConnectionState => _multiplexer switch
    {
        null => "Connecting",
        { IsConnected: true } => "Connected",
        _ => "Disconnected",
    };

    /// <summary>The circuit breaker's state (an isolated circuit counts as open).</summary>
    public L2CircuitState CircuitState => _circuit.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => L2CircuitState.Closed,
        Polly.CircuitBreaker.CircuitState.HalfOpen => L2CircuitState.HalfOpen,
        _ => L2CircuitState.Open,
    };

    /// <summary>Whether a call made now would be attempted (connected and the circuit not open).</summary>
    public bool IsAvailable => _multiplexer is { IsConnected: true } && !IsOpenNow();

    /// <summary>The deadline of every call.</summary>
    public TimeSpan Timeout => _timeout;

    /// <summary>GET.</summary>
    public ValueTask<L2Result<RedisValue>> GetAsync(string key, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Get, key, static (db, k) => db.StringGetAsync(k), cancellationToken);

    /// <summary>
    /// Starts a GET for a caller on the hot path that awaits the reply in its own state machine, so that an L2 read
    /// suspends once rather than once per layer. With the circuit closed the GET joins the coalescer's next batch and
    /// <paramref name="reply"/> completes with the value (faulted on a failure or past the deadline): the caller
    /// must await it, catching its exception, and hand the result to <see cref="EndGet"/>, which reports the outcome
    /// to the breaker and counts a failure exactly as <see cref="GetAsync"/> does. When the call has to pass the
    /// breaker's gate (half-open, or open past its break) the answer is <see cref="GetStart.Gated"/> and nothing is
    /// sent: use <see cref="GetAsync"/>.
    /// </summary>
    public GetStart StartGet(string key, out ValueTask<RedisValue> reply, out long sentAt)
    {
        reply = default;
        sentAt = 0;
        var gets = _gets;
        if (gets is null || IsOpenNow())
        {
            return GetStart.Unavailable;
        }

        if (!_closed)
        {
            return GetStart.Gated;
        }

        sentAt = CallTimestamp();
        reply = gets.GetAsync(key);
        return GetStart.Sent;
    }

    /// <summary>
    /// Ends a GET started by <see cref="StartGet"/>: the reply, or the exception its await threw. The outcome goes to
    /// the breaker (which opens on outages) and a failure is counted and logged; only the caller's own cancellation throws.
    /// </summary>
    public L2Result<RedisValue> EndGet(RedisValue reply, Exception? failure, long sentAt, CancellationToken cancellationToken)
    {
        var outcome = failure is null ? Outcome.FromResult(reply) : Outcome.FromException<RedisValue>(failure);
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

    /// <summary>MGET: one value per key, null where absent (split by slot on a cluster).</summary>
    public ValueTask<L2Result<byte[]?[]>> MGetAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.MultiGet, (keys, this), static async (db, s) =>
        {
            var values = new byte[]?[s.keys.Count];
            foreach (var group in s.Item2.BySlot(s.keys))
            {
                var replies = await db.StringGetAsync(group.Keys).ConfigureAwait(false);
                for (var i = 0; i < replies.Length; i++)
                {
                    values[group.Positions[i]] = (byte[]?)replies[i];
                }
            }

            return values;
        }, cancellationToken);

    /// <summary>SET with a PX expiry.</summary>
    public ValueTask<L2Result<bool>> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Set, (key, value, expiry), static (db, s) => db.StringSetAsync(s.key, s.value, s.expiry), cancellationToken);

    /// <summary>UNLINK: how many of the keys existed (split by slot on a cluster).</summary>
    public ValueTask<L2Result<long>> UnlinkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Unlink, (keys, this), static async (db, s) =>
        {
            var unlinked = 0L;
            foreach (var group in s.Item2.BySlot(s.keys))
            {
                unlinked += (long)await db.ExecuteAsync("UNLINK", [.. group.Keys.Select(static k => (object)k)]).ConfigureAwait(false);
            }

            return unlinked;
        }, cancellationToken);

    /// <summary>The primaries to SCAN (every primary of a cluster; the one server otherwise). Empty before the multiplexer exists.</summary>
    public EndPoint[] Primaries()
    {
        if (_multiplexer is not { } multiplexer)
        {
            return [];
        }

        var primaries = new List<EndPoint>();
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsReplica)
            {
                primaries.Add(server.EndPoint);
            }
        }

        return [.. primaries];
    }

    /// <summary>
    /// One SCAN page on <paramref name="primary"/>: the next cursor (0 when the scan of that server is complete) and
    /// the keys of this page. Start with cursor 0; each page is its own resilient call, so an outage stops a scan
    /// between pages.
    /// </summary>
    public ValueTask<L2Result<ScanPage>> ScanPageAsync(EndPoint primary, long cursor, string match, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrEmpty(match);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return ExecuteAsync(Operations.Scan, (primary, cursor, match, count, this), static async (_, s) =>
        {
            var server = s.Item5._multiplexer!.GetServer(s.primary);
            var reply = await server.ExecuteAsync("SCAN", s.cursor, "MATCH", s.match, "COUNT", s.count).ConfigureAwait(false);
            var page = (RedisResult[])reply!;
            if (page.Length != 2)
            {
                throw new RedisException($"SCAN returned {page.Length} elements instead of 2.");
            }

            var keys = (RedisResult[])page[1]!;
            var names = new string[keys.Length];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = (string?)keys[i] ?? string.Empty;
            }

            return new ScanPage(long.Parse((string)page[0]!, NumberStyles.None, CultureInfo.InvariantCulture), names);
        }, cancellationToken);
    }

    /// <summary>PUBLISH: how many subscribers received the message.</summary>
    public ValueTask<L2Result<long>> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Publish, (channel, message, this), static (_, s) =>
            s.Item3._multiplexer!.GetSubscriber().PublishAsync(RedisChannel.Literal(s.channel), s.message), cancellationToken);

    /// <summary>Reads tag invalidation times (Unix ms) with MGET; null where a tag was never invalidated (or holds garbage).</summary>
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
        ExecuteAsync(Operations.TagSet, (tagKey, unixMilliseconds, retention), static async (db, s) =>
            (long)await db.ScriptEvaluateAsync(RedisScripts.AdvanceTagTime, [s.tagKey], [s.unixMilliseconds, (long)Math.Max(1, s.retention.TotalMilliseconds)]).ConfigureAwait(false),
            cancellationToken);

    /// <summary>
    /// Removes entries of one bucket and records a removal tombstone for each (atomically, in one script): how many
    /// entries existed.
    /// </summary>
    /// <param name="keys">The removal keys: the entries' Redis keys, their cache keys (tombstone members), the bucket's tombstone set and floor.</param>
    /// <param name="unixMilliseconds">The removal time.</param>
    /// <param name="window">How long tombstones are kept.</param>
    /// <param name="capacity">The most tombstones the bucket keeps; older ones fold into its floor.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    public ValueTask<L2Result<long>> RemoveWithTombstonesAsync(
        RemovalKeys keys, long unixMilliseconds, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Unlink, (keys, unixMilliseconds, window, capacity), static async (db, s) =>
        {
            var redisKeys = new RedisKey[s.keys.Entries.Count + 2];
            var args = new RedisValue[s.keys.Members.Count + 3];
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
            return (long)await db.ScriptEvaluateAsync(RedisScripts.RemoveWithTombstones, redisKeys, args).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Records a pattern invalidation (before its SCAN starts) and advances the pattern sequence; returns the new
    /// sequence number and the pattern floor, which the caller then raises every bucket to.
    /// </summary>
    public ValueTask<L2Result<(long Sequence, long Floor)>> RecordPatternAsync(
        PatternKeys keys, string pattern, long unixMilliseconds, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.PatternSet, (keys, pattern, unixMilliseconds, window, capacity), static async (db, s) =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(
                RedisScripts.RecordPattern,
                [s.keys.Set, s.keys.Floor, s.keys.Sequence],
                [s.pattern, s.unixMilliseconds, (long)s.window.TotalMilliseconds, s.capacity]).ConfigureAwait(false))!;
            return ((long)reply[0], long.TryParse((string?)reply[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var floor) ? floor : 0L);
        }, cancellationToken);

    /// <summary>Raises a bucket's pattern sequence and floor (never lowers them), kept for <paramref name="window"/>.</summary>
    public ValueTask<L2Result<bool>> RaiseBucketAsync(string sequenceKey, string floorKey, long sequence, long floor, TimeSpan window, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.PatternSet, (sequenceKey, floorKey, sequence, floor, window), static async (db, s) =>
        {
            await db.ScriptEvaluateAsync(RedisScripts.RaiseBucket, [s.sequenceKey, s.floorKey], [s.sequence, s.floor, (long)s.window.TotalMilliseconds]).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>The recorded pattern invalidations (pattern, Unix ms) and the sequence number they are current at, read atomically.</summary>
    public ValueTask<L2Result<(long Sequence, (string Pattern, long UnixMilliseconds)[] Patterns)>> ReadPatternsAsync(
        PatternKeys keys, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.PatternGet, keys, static async (db, k) =>
        {
            var parts = (RedisResult[])(await db.ScriptEvaluateAsync(RedisScripts.ReadPatterns, [k.Set, k.Sequence]).ConfigureAwait(false))!;
            if (parts.Length != 2)
            {
                throw new RedisException($"The pattern read returned {parts.Length} elements instead of 2.");
            }

            var flat = (RedisResult[])parts[1]!;
            var patterns = new (string, long)[flat.Length / 2];
            for (var i = 0; i < patterns.Length; i++)
            {
                var ms = double.TryParse((string?)flat[(2 * i) + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var score) ? (long)score : long.MaxValue;
                patterns[i] = ((string?)flat[2 * i] ?? string.Empty, ms);
            }

            return (long.TryParse((string?)parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) ? sequence : 0L, patterns);
        }, cancellationToken);

    /// <summary>
    /// SET with a PX expiry unless the key was removed (or the floor passed) at or after <paramref name="readStartedUnixMilliseconds"/>,
    /// or pattern invalidations newer than <paramref name="patternSequence"/> reached the bucket: one of <see cref="WriteOutcome"/>.
    /// When <paramref name="overwrite"/> (an explicit SetAsync), the written key also gets a tombstone at
    /// <paramref name="readStartedUnixMilliseconds"/> (trimmed to <paramref name="window"/> and <paramref name="capacity"/>
    /// as removals are), so older reads of the key cannot be written over it.
    /// </summary>
    public ValueTask<L2Result<long>> SetUnlessRemovedAsync(
        string entryKey, string member, RemovalKeys removal, ReadOnlyMemory<byte> value, TimeSpan expiry, long readStartedUnixMilliseconds,
        long patternSequence, bool overwrite, TimeSpan window, int capacity, CancellationToken cancellationToken) =>
        ExecuteAsync(Operations.Set, (entryKey, member, removal, value, expiry, readStartedUnixMilliseconds, patternSequence, overwrite, window, capacity), static async (db, s) =>
            (long)await db.ScriptEvaluateAsync(
                RedisScripts.SetUnlessRemoved,
                [s.entryKey, s.removal.TombstoneSet, s.removal.Floor, s.removal.Sequence],
                [
                    s.value, (long)Math.Max(1, Math.Ceiling(s.expiry.TotalMilliseconds)), s.readStartedUnixMilliseconds, s.member, s.patternSequence,
                    s.overwrite ? 1L : 0L, (long)s.window.TotalMilliseconds, s.capacity,
                ]).ConfigureAwait(false),
            cancellationToken);

    /// <summary>
    /// A PING outside the circuit breaker (for health checks), bounded by the deadline: the round-trip time, or
    /// null with the reason when Redis did not answer.
    /// </summary>
    public async Task<(TimeSpan? Latency, string? Error)> PingAsync(CancellationToken cancellationToken)
    {
        if (_database is not { } database)
        {
            return (null, "not connected yet");
        }

        try
        {
            return (await database.PingAsync().WaitAsync(_timeout, _clock, cancellationToken).ConfigureAwait(false), null);
        }
        catch (TimeoutException)
        {
            return (null, $"PING timed out after {_timeout.TotalMilliseconds:0} ms");
        }
        catch (RedisException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>Closes the connection when this owns it; later calls are unavailable.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposing.Cancel();
        var multiplexer = await _connecting.ConfigureAwait(false);
        _primaries?.Dispose();
        _gets?.Dispose();
        _gets = null;
        _database = null;
        _multiplexer = null;
        if (multiplexer is not null)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
            multiplexer.ConnectionRestored -= OnConnectionRestored;
            multiplexer.ConfigurationChangedBroadcast -= OnTopologyChanged;
            if (_ownsConnection)
            {
                await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                multiplexer.Dispose();
            }
        }

        _disposing.Dispose();
    }

    /// <summary>Failures that say Redis is unreachable or unwell (they feed the breaker); a server error reply does not.</summary>
    internal static bool IsOutage(Exception exception) => exception is RedisConnectionException or TimeoutException
        or IOException or SocketException or ObjectDisposedException || (exception is RedisServerException server && IsTransient(server.Message));

    // Replies that say the server cannot serve now (a cluster mid-failover, a replica loading), not that the call was wrong.
    private static bool IsTransient(string message) =>
        message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal) || message.StartsWith("LOADING", StringComparison.Ordinal)
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("READONLY", StringComparison.Ordinal);

    /// <summary>
    /// Groups keys by hash slot on a cluster (one group of all keys otherwise): each group's keys with their positions
    /// in <paramref name="keys"/>.
    /// </summary>
    internal IEnumerable<(RedisKey[] Keys, int[] Positions)> BySlot(IReadOnlyList<string> keys)
    {
        if (!_cluster || _multiplexer is not { } multiplexer || keys.Count < 2)
        {
            var all = new RedisKey[keys.Count];
            var positions = new int[keys.Count];
            for (var i = 0; i < all.Length; i++)
            {
                all[i] = keys[i];
                positions[i] = i;
            }

            yield return (all, positions);
            yield break;
        }

        var groups = new Dictionary<int, List<int>>();
        for (var i = 0; i < keys.Count; i++)
        {
            var slot = multiplexer.HashSlot(keys[i]);
            if (!groups.TryGetValue(slot, out var list))
            {
                groups[slot] = list = [];
            }

            list.Add(i);
        }

        foreach (var list in groups.Values)
        {
            yield return ([.. list.Select(i => (RedisKey)keys[i])], [.. list]);
        }
    }

    // A call's start or end on the clock that times its wait (the two are only ever subtracted from each other).
    private long CallTimestamp() => _callClock?.GetTimestamp() ?? _clock.GetTimestamp();

    private bool IsOpenNow()
    {
        var until = Volatile.Read(ref _openUntil);
        return until != 0 && _clock.GetTimestamp() < until;
    }

    // Closed circuit (the common case): the call runs directly and its outcome is judged by Report (the closed
    // circuit's failure ratio and the stall rule), which opens the breaker when either is reached, without a pass
    // through the pipeline. Otherwise (half-open, or open past its break) the call runs inside the pipeline, which
    // lets one probe through and refuses the rest.
    private async ValueTask<L2Result<T>> ExecuteAsync<TState, T>(
        string operation, TState state, Func<IDatabase, TState, Task<T>> call, CancellationToken cancellationToken)
    {
        var database = _database;
        if (database is null || IsOpenNow())
        {
            return L2Result<T>.Unavailable;
        }

        if (!_closed)
        {
            return await ExecuteGatedAsync(operation, database, state, call, cancellationToken).ConfigureAwait(false);
        }

        Outcome<T> outcome;
        var started = CallTimestamp();
        try
        {
            outcome = Outcome.FromResult(await call(database, state).WaitAsync(_timeout, _clock, cancellationToken).ConfigureAwait(false));
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
            TimeoutException => _stalls.RecordTimeout(),
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
        string operation, IDatabase database, TState state, Func<IDatabase, TState, Task<T>> call, CancellationToken cancellationToken)
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
                        return Outcome.FromResult(await s.call(s.database, s.state).WaitAsync(s.Item4, TimeProvider.System, ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<T>(ex);
                    }
                },
                context,
                (database, state, call, _timeout)).ConfigureAwait(false);
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

    // Obtains the multiplexer off the constructor's thread, retrying while it cannot be had (a container factory that
    // throws because Redis is down, with abortConnect on): the cache stays L1-only meanwhile.
    private async Task<IConnectionMultiplexer?> ConnectAsync(Func<CancellationToken, Task<IConnectionMultiplexer>> connect)
    {
        await Task.Yield(); // never on the constructor's thread: building the cache does not wait for Redis
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var multiplexer = await connect(_disposing.Token).ConfigureAwait(false);
                if (Volatile.Read(ref _disposed) != 0)
                {
                    if (_ownsConnection)
                    {
                        await multiplexer.DisposeAsync().ConfigureAwait(false);
                    }

                    return null;
                }

                multiplexer.ConnectionFailed += OnConnectionFailed;
                multiplexer.ConnectionRestored += OnConnectionRestored;
                multiplexer.ConfigurationChangedBroadcast += OnTopologyChanged;
                _cluster = IsClusterNow(multiplexer);
                _multiplexer = multiplexer;
                _database = multiplexer.GetDatabase();
                _gets = new GetCoalescer(_database, this, _timeout);
                Log.L2Connecting(_logger, Endpoint, ConnectionState);
                _primaries = new PrimarySwitchDetector(multiplexer, _timeout, _clock, () => Raise(PrimaryChanged, EventArgs.Empty));

                return multiplexer;
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception ex)
            {
                if (attempt == 0)
                {
                    Log.L2ConnectFailed(_logger, Endpoint, ex.GetType().Name, ex.Message);
                }

                try
                {
                    await Task.Delay(delay, _clock, _disposing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static bool IsClusterNow(IConnectionMultiplexer multiplexer)
    {
        foreach (var server in multiplexer.GetServers())
        {
            if (server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => Raise(ConnectionFailed, EventArgs.Empty);

    private void OnConnectionRestored(object? sender, EventArgs e)
    {
        if (_multiplexer is { } multiplexer)
        {
            _cluster = IsClusterNow(multiplexer);
        }

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

        Raise(ConnectionRestored, EventArgs.Empty);
        _primaries?.Schedule();
    }

    // A configuration broadcast (a failover): messages and writes around the switch may be lost; treated as a reconnect.
    private void OnTopologyChanged(object? sender, EndPointEventArgs e) => OnConnectionRestored(sender, e);

    private void Raise(EventHandler? handler, EventArgs args)
    {
        if (handler is null)
        {
            return;
        }

        foreach (var one in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler)one)(this, args);
            }
            catch (Exception ex)
            {
                Log.L2EventHandlerFailed(_logger, ex);
            }
        }
    }

    private void RaiseCircuitChanged(L2CircuitState state)
    {
        if (CircuitStateChanged is not { } handler)
        {
            return;
        }

        foreach (var one in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler<L2CircuitState>)one)(this, state);
            }
            catch (Exception ex)
            {
                Log.L2EventHandlerFailed(_logger, ex);
            }
        }
    }
}

/// <summary>
/// The Redis keys of one bucket's removal tombstones: the entries to remove and their cache keys (empty lists when
/// only the structure keys are needed), the key tombstone set, the floor, and the bucket's pattern sequence. All in
/// the bucket's hash slot.
/// </summary>
internal readonly record struct RemovalKeys(IReadOnlyList<string> Entries, IReadOnlyList<string> Members, string TombstoneSet, string Floor, string Sequence);

/// <summary>The Redis keys of the pattern tombstones (one hash slot): the set, its floor and the global pattern sequence.</summary>
internal readonly record struct PatternKeys(string Set, string Floor, string Sequence);

/// <summary>One SCAN page of one primary: the cursor to continue from (0 when done) and the keys found.</summary>
internal readonly record struct ScanPage(long Cursor, string[] Keys);
