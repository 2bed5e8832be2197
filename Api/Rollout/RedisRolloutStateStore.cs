using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OptimizedCache.Api.Rollout;

/// <summary>
/// The rollout state in Redis: one JSON document under <c>{prefix}:rollout:state</c> (phase, version and the
/// capped history together, so they change atomically with one SET), published on <c>{prefix}:rollout</c> so
/// every replica applies a change as soon as it is made, and read at start so the phase survives restarts.
/// The multiplexer connects in the background: a replica starts, and keeps its last phase, while Redis is down.
/// </summary>
public sealed class RedisRolloutStateStore : IRolloutStateStore, IAsyncDisposable
{
    // Sets the state unless the stored one is at least as new; returns what is stored afterwards. The version is
    // read from the stored JSON, so the document stays the one value every reader parses.
    private const string Reassert = """
        local stored = redis.call('GET', KEYS[1])
        if stored and cjson.decode(stored).version >= tonumber(ARGV[2]) then
          return stored
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return false
        """;

    private readonly RedisKey _stateKey;
    private readonly RedisChannel _channel;
    private readonly Task<IConnectionMultiplexer> _multiplexer;
    private readonly bool _ownsConnection;
    private readonly ILogger<RedisRolloutStateStore> _logger;

    /// <summary>Creates the store over a multiplexer the container owns (obtained on first use, off the caller's thread).</summary>
    public RedisRolloutStateStore(Func<IConnectionMultiplexer> multiplexer, IOptions<RolloutOptions> options, ILogger<RedisRolloutStateStore> logger)
        : this(Task.Run(multiplexer), ownsConnection: false, options, logger)
    {
    }

    /// <summary>Creates the store with its own multiplexer for <paramref name="connectionString"/> (StackExchange.Redis format).</summary>
    public RedisRolloutStateStore(string connectionString, IOptions<RolloutOptions> options, ILogger<RedisRolloutStateStore> logger)
        : this(ConnectAsync(connectionString), ownsConnection: true, options, logger)
    {
    }

    private RedisRolloutStateStore(Task<IConnectionMultiplexer> multiplexer, bool ownsConnection, IOptions<RolloutOptions> options, ILogger<RedisRolloutStateStore> logger)
    {
        _stateKey = options.Value.KeyPrefix + ":rollout:state";
        _channel = RedisChannel.Literal(options.Value.KeyPrefix + ":rollout");
        _multiplexer = multiplexer;
        _ownsConnection = ownsConnection;
        _logger = logger;
    }

    /// <inheritdoc />
    public bool IsShared => true;

    /// <inheritdoc />
    public async Task<RolloutState?> LoadAsync(CancellationToken cancellationToken)
    {
        var database = (await _multiplexer.WaitAsync(cancellationToken)).GetDatabase();
        string? json = await database.StringGetAsync(_stateKey).WaitAsync(cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<RolloutState>(json, JsonSerializerOptions.Web);
    }

    /// <inheritdoc />
    public async Task SaveAsync(RolloutState state, CancellationToken cancellationToken)
    {
        var multiplexer = await _multiplexer.WaitAsync(cancellationToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(state, JsonSerializerOptions.Web);
        await multiplexer.GetDatabase().StringSetAsync(_stateKey, json).WaitAsync(cancellationToken);
        await multiplexer.GetSubscriber().PublishAsync(_channel, json).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<RolloutState> ReassertAsync(RolloutState state, CancellationToken cancellationToken)
    {
        var multiplexer = await _multiplexer.WaitAsync(cancellationToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(state, JsonSerializerOptions.Web);
        var reply = await multiplexer.GetDatabase().ScriptEvaluateAsync(Reassert, [_stateKey], [json, state.Version]).WaitAsync(cancellationToken);
        if (!reply.IsNull && (string?)reply is { } stored)
        {
            return JsonSerializer.Deserialize<RolloutState>(stored, JsonSerializerOptions.Web) ?? state;
        }

        await multiplexer.GetSubscriber().PublishAsync(_channel, json).WaitAsync(cancellationToken);
        return state;
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> SubscribeAsync(Func<RolloutState, Task> onChange, CancellationToken cancellationToken)
    {
        var multiplexer = await _multiplexer.WaitAsync(cancellationToken);
        var queue = await multiplexer.GetSubscriber().SubscribeAsync(_channel).WaitAsync(cancellationToken);
        queue.OnMessage(message =>
        {
            try
            {
                if (JsonSerializer.Deserialize<RolloutState>(((ReadOnlyMemory<byte>)message.Message).Span, JsonSerializerOptions.Web) is { } state)
                {
                    _ = onChange(state);
                }
            }
            catch (JsonException e)
            {
                Log.RolloutStoreFailed(_logger, e);
            }
        });
        return new Subscription(queue);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_ownsConnection)
        {
            return;
        }

        try
        {
            await (await _multiplexer).DisposeAsync();
        }
        catch (RedisException)
        {
            // never connected: nothing to close
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false; // connect in the background: the replica keeps its phase while Redis is down
        options.BacklogPolicy = BacklogPolicy.FailFast; // a call while disconnected fails at once; the coordinator retries
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await queue.UnsubscribeAsync();
            }
            catch (Exception e) when (e is RedisException or ObjectDisposedException)
            {
                // the connection is gone (or the container closed it first), and the subscription with it
            }
        }
    }
}
