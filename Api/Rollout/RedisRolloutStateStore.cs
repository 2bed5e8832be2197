using System.Text.Json;
using Microsoft.Extensions.Options;
using OptimizedCache.Cache.Core.Redis;

namespace OptimizedCache.Api.Rollout;

/// <summary>
/// The rollout state in Redis: one JSON document under <c>{prefix}:rollout:state</c> (phase, version and the
/// capped history together, so they change atomically with one SET), published on <c>{prefix}:rollout</c> so
/// every replica applies a change as soon as it is made, and read at start so the phase survives restarts.
/// The client connects in the background: a replica starts, and keeps its last phase, while Redis is down.
/// </summary>
public sealed class RedisRolloutStateStore : IRolloutStateStore, IAsyncDisposable
{
    // Sets the state unless the stored one is at least as new; returns what is stored afterwards. The version is
    // read from the stored JSON, so the document stays the one value every reader parses.
    private static readonly RedisScript Reassert = new("""
        local stored = redis.call('GET', KEYS[1])
        if stored and cjson.decode(stored).version >= tonumber(ARGV[2]) then
          return stored
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return false
        """);

    private readonly string _stateKey;
    private readonly string _channel;
    private readonly Lazy<Task<RedisClient>> _client;
    private readonly ILogger<RedisRolloutStateStore> _logger;

    /// <summary>Creates the store; the connection is made on first use.</summary>
    public RedisRolloutStateStore(string connectionString, IOptions<RolloutOptions> options, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        var connection = RedisConnectionOptions.Parse(connectionString);
        connection.AbortOnConnectFail = false;
        _stateKey = options.Value.KeyPrefix + ":rollout:state";
        _channel = options.Value.KeyPrefix + ":rollout";
        _logger = loggerFactory.CreateLogger<RedisRolloutStateStore>();
        _client = new Lazy<Task<RedisClient>>(() => RedisClient.ConnectAsync(connection, loggerFactory, timeProvider));
    }

    /// <inheritdoc />
    public bool IsShared => true;

    /// <inheritdoc />
    public async Task<RolloutState?> LoadAsync(CancellationToken cancellationToken)
    {
        var client = await _client.Value.WaitAsync(cancellationToken);
        var json = await client.GetStringAsync(_stateKey, cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<RolloutState>(json, JsonSerializerOptions.Web);
    }

    /// <inheritdoc />
    public async Task SaveAsync(RolloutState state, CancellationToken cancellationToken)
    {
        var client = await _client.Value.WaitAsync(cancellationToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(state, JsonSerializerOptions.Web);
        await client.SetAsync(_stateKey, json, cancellationToken: cancellationToken);
        await client.PublishAsync(_channel, json, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<RolloutState> ReassertAsync(RolloutState state, CancellationToken cancellationToken)
    {
        var client = await _client.Value.WaitAsync(cancellationToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(state, JsonSerializerOptions.Web);
        var reply = await client.EvalAsync(Reassert, [_stateKey], [json, state.Version], cancellationToken);
        if (reply.AsString() is { } stored)
        {
            return JsonSerializer.Deserialize<RolloutState>(stored, JsonSerializerOptions.Web) ?? state;
        }

        await client.PublishAsync(_channel, json, cancellationToken);
        return state;
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> SubscribeAsync(Func<RolloutState, Task> onChange, CancellationToken cancellationToken)
    {
        var client = await _client.Value.WaitAsync(cancellationToken);
        await client.Subscriber.SubscribeAsync(
            _channel,
            message =>
            {
                try
                {
                    if (JsonSerializer.Deserialize<RolloutState>(message.Payload.Span, JsonSerializerOptions.Web) is { } state)
                    {
                        _ = onChange(state);
                    }
                }
                catch (JsonException e)
                {
                    Log.RolloutStoreFailed(_logger, e);
                }
            },
            cancellationToken);
        return new Subscription(client, _channel);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_client.IsValueCreated)
        {
            try
            {
                await (await _client.Value).DisposeAsync();
            }
            catch (RedisException)
            {
                // Never connected: nothing to close.
            }
        }
    }

    private sealed class Subscription(RedisClient client, string channel) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await client.Subscriber.UnsubscribeAsync(channel);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }
    }
}
