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
    }

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

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly CircuitBreakerManualControl _manualControl = new();
    private readonly Counter<long> _errors;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly TimeSpan _timeout;
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

    private bool IsOpenNow()
    {
        var until = Volatile.Read(ref _openUntil);
        return until != 0 && _clock.GetTimestamp() < until;
    }

    // Closed circuit (the common case): the call runs directly and its outcome is then handed to the breaker through
    // the pipeline with a callback that has already completed, so the breaker sees every outcome (and opens on
    // them) without an async state machine per call. Otherwise (half-open, or open past its break) the call runs
    // inside the pipeline, which lets one probe through and refuses the rest.
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
        try
        {
            outcome = Outcome.FromResult(await call(client, state, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<T>(ex);
        }

        if (!(outcome.Exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
            try
            {
                // completes synchronously; its result (a refusal if the circuit opened meanwhile) is not needed
                await _pipeline.ExecuteOutcomeAsync(static (_, recorded) => ValueTask.FromResult(recorded), context, outcome).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        return Finish(operation, outcome, cancellationToken);
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

/// <summary>One page of a SCAN: the cursor to continue from (<c>"0"</c> when done) and the keys found.</summary>
internal readonly record struct ScanPage(string Cursor, string[] Keys);
