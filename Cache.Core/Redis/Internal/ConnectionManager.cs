using System.Net;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.Cache.Core.Redis.Internal;

/// <summary>
/// Keeps one <see cref="PhysicalConnection"/> alive: connects to the first reachable endpoint, and after a failure
/// reconnects in the background with exponential backoff and jitter. Callers get the live connection or a
/// <see cref="RedisConnectionException"/> at once: nothing waits for a reconnect.
/// </summary>
internal sealed class ConnectionManager : IAsyncDisposable
{
    private readonly RedisConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _role;
    private readonly Action<RedisReply>? _pushHandler;
    private readonly Func<PhysicalConnection, CancellationToken, Task>? _beforePublish;
    private readonly Action<RedisConnectionEventArgs> _onFailed;
    private readonly Action<RedisConnectionEventArgs, bool> _onConnected;
    private readonly CancellationTokenSource _disposing = new();
    private readonly object _sync = new();
    private PhysicalConnection? _current;
    private RedisConnectionState _state = RedisConnectionState.Connecting;
    private EndPoint _lastEndpoint;
    private Exception? _lastError;
    private long _disconnectedAt;
    private Task _reconnect = Task.CompletedTask;
    private bool _reconnecting;

    public ConnectionManager(
        RedisConnectionOptions options,
        TimeProvider time,
        ILogger logger,
        string role,
        Action<RedisReply>? pushHandler,
        Func<PhysicalConnection, CancellationToken, Task>? beforePublish,
        Action<RedisConnectionEventArgs> onFailed,
        Action<RedisConnectionEventArgs, bool> onConnected)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _role = role;
        _pushHandler = pushHandler;
        _beforePublish = beforePublish;
        _onFailed = onFailed;
        _onConnected = onConnected;
        _lastEndpoint = options.Endpoints[0];
        _disconnectedAt = time.GetTimestamp();
    }

    public RedisConnectionState State
    {
        get
        {
            lock (_sync)
            {
                return _state;
            }
        }
    }

    /// <summary>The endpoint of the live connection, or the last one tried.</summary>
    public EndPoint Endpoint
    {
        get
        {
            lock (_sync)
            {
                return _current?.Endpoint ?? _lastEndpoint;
            }
        }
    }

    /// <summary>Makes the first connection, retrying <see cref="RedisConnectionOptions.ConnectRetry"/> rounds.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Exception? last = null;
        for (var round = 0; round < _options.ConnectRetry; round++)
        {
            if (round > 0)
            {
                await Task.Delay(Backoff(round), _time, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                var connection = await ConnectAnyAsync(cancellationToken).ConfigureAwait(false);
                if (_beforePublish is not null)
                {
                    await _beforePublish(connection, cancellationToken).ConfigureAwait(false);
                }

                Publish(connection, restored: false);
                return;
            }
            catch (RedisConnectionException ex)
            {
                last = ex;
                if (ex.InnerException is RedisServerException)
                {
                    // Wrong credentials or permissions do not heal by retrying.
                    break;
                }
            }
        }

        lock (_sync)
        {
            _state = RedisConnectionState.Disconnected;
            _lastError = last;
            _disconnectedAt = _time.GetTimestamp();
        }

        if (_options.AbortOnConnectFail)
        {
            throw last!;
        }

        StartReconnecting();
    }

    /// <summary>The live connection, or a <see cref="RedisConnectionException"/> that says why there is none.</summary>
    public PhysicalConnection GetConnection()
    {
        var connection = Volatile.Read(ref _current);
        if (connection is not null && !connection.IsClosed)
        {
            return connection;
        }

        throw NotConnected();
    }

    public RedisConnectionException NotConnected()
    {
        lock (_sync)
        {
            if (_state == RedisConnectionState.Disposed)
            {
                throw new ObjectDisposedException(nameof(RedisClient));
            }

            var down = _time.GetElapsedTime(_disconnectedAt);
            var endpoint = RedisConnectionOptions.FormatEndpoint((DnsEndPoint)_lastEndpoint);
            var why = _lastError is null ? string.Empty : $" Last error: {_lastError.Message}";
            return new RedisConnectionException(
                $"Redis {_role} connection to {endpoint} is {_state}, for {down.TotalMilliseconds:0} ms; reconnecting in the background.{why}",
                _lastEndpoint, _state, down, _lastError);
        }
    }

    public async ValueTask DisposeAsync()
    {
        PhysicalConnection? connection;
        lock (_sync)
        {
            if (_state == RedisConnectionState.Disposed)
            {
                return;
            }

            _state = RedisConnectionState.Disposed;
            connection = _current;
            _current = null;
        }

        _disposing.Cancel();
        try
        {
            await _reconnect.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    private async Task<PhysicalConnection> ConnectAnyAsync(CancellationToken cancellationToken)
    {
        List<RedisConnectionException>? errors = null;
        foreach (var endpoint in _options.Endpoints)
        {
            lock (_sync)
            {
                _lastEndpoint = endpoint;
            }

            try
            {
                var connection = await PhysicalConnection.ConnectAsync(endpoint, _options, _time, _logger, _pushHandler, cancellationToken).ConfigureAwait(false);
                Log.Connected(_logger, _role, RedisConnectionOptions.FormatEndpoint(endpoint));
                return connection;
            }
            catch (RedisConnectionException ex)
            {
                Log.ConnectFailed(_logger, _role, RedisConnectionOptions.FormatEndpoint(endpoint), ex.Message);
                (errors ??= []).Add(ex);
            }
        }

        if (errors!.Count == 1)
        {
            throw errors[0];
        }

        throw new RedisConnectionException(
            "No Redis endpoint could be reached: " + string.Join(" | ", errors.Select(e => e.Message)),
            _options.Endpoints[0], RedisConnectionState.Disconnected, null, errors.Find(e => e.InnerException is RedisServerException) ?? errors[0]);
    }

    private void Publish(PhysicalConnection connection, bool restored)
    {
        long downTicks;
        lock (_sync)
        {
            if (_state == RedisConnectionState.Disposed)
            {
                _ = connection.DisposeAsync().AsTask();
                return;
            }

            downTicks = _disconnectedAt;
            _current = connection;
            _state = RedisConnectionState.Connected;
            _lastEndpoint = connection.Endpoint;
            _lastError = null;
        }

        if (restored)
        {
            Log.Restored(_logger, _role, RedisConnectionOptions.FormatEndpoint(connection.Endpoint), (long)_time.GetElapsedTime(downTicks).TotalMilliseconds);
        }

        Raise(() => _onConnected(new RedisConnectionEventArgs(connection.Endpoint, null, RedisConnectionState.Connected), restored));
        connection.SetFaultHandler(OnFault);
    }

    private void OnFault(PhysicalConnection connection, Exception reason)
    {
        lock (_sync)
        {
            if (!ReferenceEquals(_current, connection) || _state == RedisConnectionState.Disposed)
            {
                return;
            }

            _current = null;
            _state = RedisConnectionState.Disconnected;
            _lastError = reason;
            _disconnectedAt = _time.GetTimestamp();
        }

        Log.ConnectionLost(_logger, _role, RedisConnectionOptions.FormatEndpoint(connection.Endpoint), reason.Message);
        _ = connection.DisposeAsync().AsTask();
        Raise(() => _onFailed(new RedisConnectionEventArgs(connection.Endpoint, reason, RedisConnectionState.Disconnected)));
        StartReconnecting();
    }

    private void StartReconnecting()
    {
        lock (_sync)
        {
            if (_state == RedisConnectionState.Disposed || _reconnecting)
            {
                return;
            }

            _reconnecting = true;
            _reconnect = Task.Run(ReconnectLoopAsync);
        }
    }

    private async Task ReconnectLoopAsync()
    {
        var token = _disposing.Token;
        for (var attempt = 1; !token.IsCancellationRequested; attempt++)
        {
            var delay = Backoff(attempt);
            Log.Reconnecting(_logger, _role, attempt, (long)delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, _time, token).ConfigureAwait(false);
                var connection = await ConnectAnyAsync(token).ConfigureAwait(false);
                try
                {
                    if (_beforePublish is not null)
                    {
                        await _beforePublish(connection, token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    lock (_sync)
                    {
                        _lastError = ex;
                    }

                    continue;
                }

                Publish(connection, restored: true);
                lock (_sync)
                {
                    // A connection that failed right after it was published is retried by this loop.
                    if (_state is RedisConnectionState.Connected or RedisConnectionState.Disposed)
                    {
                        _reconnecting = false;
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (RedisConnectionException ex)
            {
                lock (_sync)
                {
                    _lastError = ex;
                }
            }
        }

        lock (_sync)
        {
            _reconnecting = false;
        }
    }

    /// <summary>Exponential backoff with "equal jitter": half the delay fixed, half random, so replicas spread out.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var min = _options.ReconnectMinDelay.TotalMilliseconds;
        var max = _options.ReconnectMaxDelay.TotalMilliseconds;
        var ceiling = Math.Min(max, min * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    private void Raise(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception ex)
        {
            Log.EventHandlerFailed(_logger, ex);
        }
    }
}
