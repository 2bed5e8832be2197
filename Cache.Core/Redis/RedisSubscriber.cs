using System.Net;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Redis.Internal;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// Pub/sub on a connection of its own (a subscribed RESP2 connection can run nothing else). Connects on the first
/// subscription. After a reconnect every channel and pattern is subscribed again before
/// <see cref="MessagesMayHaveBeenMissed"/> is raised: messages published while the connection was down are lost.
/// </summary>
/// <remarks>
/// Handlers run one at a time, in the order messages arrive, on the connection's reader: they must be quick and
/// must not block (hand work to a queue). An exception from a handler is logged and does not affect the others.
/// </remarks>
public sealed class RedisSubscriber : IAsyncDisposable
{
    private readonly ConnectionManager _manager;
    private readonly ILogger _logger;
    private readonly object _sync = new();
    private readonly Dictionary<string, Action<RedisChannelMessage>[]> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action<RedisChannelMessage>[]> _patterns = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private bool _started;

    internal RedisSubscriber(RedisConnectionOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _logger = loggerFactory.CreateLogger("OptimizedCache.Cache.Core.Redis.RedisSubscriber");
        _manager = new ConnectionManager(
            options,
            time,
            _logger,
            "subscription",
            OnMessage,
            ResubscribeAsync,
            onFailed: e => ConnectionFailed?.Invoke(this, e),
            onConnected: (e, restored) =>
            {
                if (restored)
                {
                    MessagesMayHaveBeenMissed?.Invoke(this, e);
                }
            });
    }

    /// <summary>
    /// Raised after the subscription connection was lost and restored (every subscription has been made again):
    /// messages published in between were missed, so caches fed by them should be flushed or revalidated.
    /// </summary>
    public event EventHandler<RedisConnectionEventArgs>? MessagesMayHaveBeenMissed;

    /// <summary>Raised when the subscription connection is lost.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionFailed;

    /// <summary>The subscription connection's state (<see cref="RedisConnectionState.Connecting"/> until the first subscription).</summary>
    public RedisConnectionState State => _manager.State;

    /// <summary>The endpoint in use, or the last one tried.</summary>
    public EndPoint Endpoint => _manager.Endpoint;

    /// <summary>Subscribes a handler to a channel (SUBSCRIBE); the server is asked only for the channel's first handler.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="handler">Runs for each message; quick and non-blocking.</param>
    /// <param name="cancellationToken">Cancels the wait for the server's confirmation.</param>
    /// <exception cref="RedisConnectionException">The subscription connection is down; nothing was registered.</exception>
    public Task SubscribeAsync(string channel, Action<RedisChannelMessage> handler, CancellationToken cancellationToken = default) =>
        AddAsync(_channels, RedisCommands.Subscribe, channel, handler, cancellationToken);

    /// <summary>Subscribes a handler to a glob pattern of channels (PSUBSCRIBE).</summary>
    /// <param name="pattern">The pattern, e.g. <c>cache:*</c>.</param>
    /// <param name="handler">Runs for each message; quick and non-blocking.</param>
    /// <param name="cancellationToken">Cancels the wait for the server's confirmation.</param>
    /// <exception cref="RedisConnectionException">The subscription connection is down; nothing was registered.</exception>
    public Task PSubscribeAsync(string pattern, Action<RedisChannelMessage> handler, CancellationToken cancellationToken = default) =>
        AddAsync(_patterns, RedisCommands.PSubscribe, pattern, handler, cancellationToken);

    /// <summary>Removes every handler of a channel or pattern and unsubscribes from it (UNSUBSCRIBE / PUNSUBSCRIBE).</summary>
    /// <param name="channelOrPattern">The channel or pattern given when subscribing.</param>
    /// <param name="cancellationToken">Cancels the wait for the server's confirmation.</param>
    public async Task UnsubscribeAsync(string channelOrPattern, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channelOrPattern);
        bool channel, pattern;
        lock (_sync)
        {
            channel = _channels.Remove(channelOrPattern);
            pattern = _patterns.Remove(channelOrPattern);
        }

        if (!_started || _manager.State != RedisConnectionState.Connected)
        {
            // Nothing to tell the server: the name is no longer resubscribed after a reconnect.
            return;
        }

        var connection = _manager.GetConnection();
        if (channel)
        {
            (await connection.SendAsync(RedisCommands.Unsubscribe, [channelOrPattern], cancellationToken).ConfigureAwait(false)).ThrowIfError("UNSUBSCRIBE");
        }

        if (pattern)
        {
            (await connection.SendAsync(RedisCommands.PUnsubscribe, [channelOrPattern], cancellationToken).ConfigureAwait(false)).ThrowIfError("PUNSUBSCRIBE");
        }
    }

    /// <summary>Closes the subscription connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _manager.DisposeAsync().ConfigureAwait(false);
        _startGate.Dispose();
    }

    private async Task AddAsync(
        Dictionary<string, Action<RedisChannelMessage>[]> registry,
        CommandName subscribe,
        string name,
        Action<RedisChannelMessage> handler,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(handler);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var connection = _manager.GetConnection();
        bool first;
        lock (_sync)
        {
            first = !registry.TryGetValue(name, out var handlers);
            registry[name] = handlers is null ? [handler] : [.. handlers, handler];
        }

        if (!first)
        {
            return;
        }

        try
        {
            (await connection.SendAsync(subscribe, [name], cancellationToken).ConfigureAwait(false)).ThrowIfError(subscribe.Name);
        }
        catch
        {
            lock (_sync)
            {
                if (registry.TryGetValue(name, out var handlers))
                {
                    var rest = handlers.Where(h => h != handler).ToArray();
                    if (rest.Length == 0)
                    {
                        registry.Remove(name);
                    }
                    else
                    {
                        registry[name] = rest;
                    }
                }
            }

            throw;
        }
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _started))
        {
            return;
        }

        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started)
            {
                await _manager.StartAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _started, true);
            }
        }
        finally
        {
            _startGate.Release();
        }
    }

    private async Task ResubscribeAsync(PhysicalConnection connection, CancellationToken cancellationToken)
    {
        string[] channels, patterns;
        lock (_sync)
        {
            channels = [.. _channels.Keys];
            patterns = [.. _patterns.Keys];
        }

        if (channels.Length == 0 && patterns.Length == 0)
        {
            return;
        }

        var confirmations = new List<ValueTask<RedisReply>>(channels.Length + patterns.Length);
        foreach (var channel in channels)
        {
            confirmations.Add(connection.SendAsync(RedisCommands.Subscribe, [channel], cancellationToken));
        }

        foreach (var pattern in patterns)
        {
            confirmations.Add(connection.SendAsync(RedisCommands.PSubscribe, [pattern], cancellationToken));
        }

        Exception? failure = null;
        foreach (var confirmation in confirmations)
        {
            try
            {
                var reply = await confirmation.ConfigureAwait(false);
                if (reply.IsError)
                {
                    failure ??= new RedisServerException("SUBSCRIBE", reply.ErrorMessage!);
                }
            }
            catch (Exception ex)
            {
                failure ??= ex;
            }
        }

        if (failure is not null)
        {
            throw failure;
        }

        Log.Resubscribed(_logger, channels.Length, patterns.Length);
    }

    private void OnMessage(RedisReply reply)
    {
        var elements = reply.Elements;
        var isPattern = elements.Count == 4;
        var pattern = isPattern ? elements[1].AsString() : null;
        var channel = elements[isPattern ? 2 : 1].AsString() ?? string.Empty;
        var payload = elements[isPattern ? 3 : 2].AsBytes() ?? [];
        Action<RedisChannelMessage>[]? handlers;
        lock (_sync)
        {
            (isPattern ? _patterns : _channels).TryGetValue(isPattern ? pattern ?? string.Empty : channel, out handlers);
        }

        if (handlers is null)
        {
            return;
        }

        var message = new RedisChannelMessage(channel, pattern, payload);
        foreach (var handler in handlers)
        {
            try
            {
                handler(message);
            }
            catch (Exception ex)
            {
                Log.HandlerFailed(_logger, ex);
            }
        }
    }
}
