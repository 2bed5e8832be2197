using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OptimizedCache.Cache.Core.Redis.Internal;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// A Redis client for RESP2 servers: one multiplexed, pipelined connection carries the commands of every concurrent
/// caller, replies are matched in order, and the connection is re-established in the background after a failure.
/// Thread-safe; create one per application and share it.
/// </summary>
/// <remarks>
/// <para>While disconnected, commands fail at once with <see cref="RedisConnectionException"/>; none waits for the
/// reconnect. Commands that were waiting when the connection dropped fail the same way. A command whose reply does
/// not arrive within <see cref="RedisConnectionOptions.AsyncTimeout"/> fails with <see cref="RedisTimeoutException"/>;
/// cancellation throws <see cref="OperationCanceledException"/>. In both cases the command may still run on the server,
/// and its reply is read and discarded, so the stream never desynchronises.</para>
/// <para>Error replies throw <see cref="RedisServerException"/>. Pub/sub runs on its own connection
/// (<see cref="Subscriber"/>).</para>
/// </remarks>
public sealed partial class RedisClient : IAsyncDisposable
{
    private readonly ConnectionManager _manager;
    private readonly RedisConnectionOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly object _subscriberLock = new();
    private RedisSubscriber? _subscriber;

    private RedisClient(RedisConnectionOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time;
        _manager = new ConnectionManager(
            options,
            time,
            loggerFactory.CreateLogger("OptimizedCache.Cache.Core.Redis.RedisClient"),
            "interactive",
            pushHandler: null,
            beforePublish: null,
            onFailed: e => ConnectionFailed?.Invoke(this, e),
            onConnected: (e, restored) =>
            {
                if (restored)
                {
                    ConnectionRestored?.Invoke(this, e);
                }
            });
    }

    /// <summary>Raised when the connection is lost (after the waiting commands have failed). Handlers must not block.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionFailed;

    /// <summary>Raised when the connection is re-established after a loss. Handlers must not block.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionRestored;

    /// <summary>The connection state.</summary>
    public RedisConnectionState State => _manager.State;

    /// <summary>The endpoint in use, or the last one tried while disconnected.</summary>
    public EndPoint Endpoint => _manager.Endpoint;

    /// <summary>The options in force (a copy of those given).</summary>
    public RedisConnectionOptions Options => _options;

    /// <summary>Pub/sub on a connection of its own, created (not yet connected) on first use.</summary>
    public RedisSubscriber Subscriber
    {
        get
        {
            lock (_subscriberLock)
            {
                ObjectDisposedException.ThrowIf(_manager.State == RedisConnectionState.Disposed, this);
                return _subscriber ??= new RedisSubscriber(_options, _loggerFactory, _time);
            }
        }
    }

    /// <summary>Connects to the first reachable endpoint (AUTH, SELECT and CLIENT SETNAME run before anything else).</summary>
    /// <param name="options">The connection options; a copy is kept.</param>
    /// <param name="loggerFactory">For connection events; nothing is logged when null.</param>
    /// <param name="timeProvider">The clock for timeouts, keep-alive and backoff; the system clock when null.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>A connected client; or, when <see cref="RedisConnectionOptions.AbortOnConnectFail"/> is false and no endpoint
    /// answered, a disconnected one that keeps trying.</returns>
    /// <exception cref="RedisConnectionException">No endpoint could be reached or the handshake failed, with the reason.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<RedisClient> ConnectAsync(
        RedisConnectionOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var client = new RedisClient(options.Clone(), loggerFactory ?? NullLoggerFactory.Instance, timeProvider ?? TimeProvider.System);
        try
        {
            await client._manager.StartAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Parses a StackExchange.Redis-style connection string and connects.</summary>
    /// <param name="connectionString">For example <c>localhost:6379,password=…,ssl=true</c>.</param>
    /// <param name="loggerFactory">For connection events; nothing is logged when null.</param>
    /// <param name="timeProvider">The clock; the system clock when null.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>A connected client (see the other overload).</returns>
    /// <exception cref="ArgumentException">The connection string is invalid (the message names the option).</exception>
    /// <exception cref="RedisConnectionException">No endpoint could be reached or the handshake failed.</exception>
    public static Task<RedisClient> ConnectAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisConnectionOptions.Parse(connectionString), loggerFactory, timeProvider, cancellationToken);

    /// <summary>Closes both connections; waiting commands fail with <see cref="RedisConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        RedisSubscriber? subscriber;
        lock (_subscriberLock)
        {
            subscriber = _subscriber;
        }

        await _manager.DisposeAsync().ConfigureAwait(false);
        if (subscriber is not null)
        {
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Sends on the live connection, or fails at once when there is none.</summary>
    internal ValueTask<RedisReply> SendAsync(CommandName command, ReadOnlySpan<RedisArg> args, CancellationToken cancellationToken, bool pooledBulk = false) =>
        _manager.GetConnection().SendAsync(command, args, cancellationToken, pooledBulk: pooledBulk);
}
