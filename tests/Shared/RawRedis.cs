using StackExchange.Redis;

namespace OptimizedCache.Testing;

/// <summary>
/// A test's own view of a Redis server, beside the cache under test: reads and writes keys directly, publishes raw
/// messages and runs admin commands (CLIENT PAUSE, DEBUG SLEEP), through StackExchange.Redis.
/// </summary>
public sealed class RawRedis : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;

    private RawRedis(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    /// <summary>The database.</summary>
    public IDatabase Database => _multiplexer.GetDatabase();

    /// <summary>The multiplexer (servers, subscriber).</summary>
    public IConnectionMultiplexer Multiplexer => _multiplexer;

    /// <summary>Connects (admin commands allowed); fails if Redis does not answer.</summary>
    public static async Task<RawRedis> ConnectAsync(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AllowAdmin = true;
        return new RawRedis(await ConnectionMultiplexer.ConnectAsync(options));
    }

    /// <summary>GET as bytes; null when absent.</summary>
    public async Task<byte[]?> GetAsync(string key) => (byte[]?)await Database.StringGetAsync(key);

    /// <summary>GET as text; null when absent.</summary>
    public async Task<string?> GetStringAsync(string key) => await Database.StringGetAsync(key);

    /// <summary>SET, with an expiry when given.</summary>
    public Task SetAsync(string key, byte[] value, TimeSpan? expiry = null) => expiry is { } ttl ? Database.StringSetAsync(key, value, ttl) : Database.StringSetAsync(key, value);

    /// <summary>EXISTS: how many of the keys exist (one EXISTS per key, so that keys of any slots can be asked on a cluster).</summary>
    public async Task<long> ExistsAsync(IEnumerable<string> keys)
    {
        var found = await Task.WhenAll(keys.Select(k => Database.KeyExistsAsync(k)));
        return found.Count(static f => f);
    }

    /// <summary>The remaining time to live; null without an expiry or when absent.</summary>
    public Task<TimeSpan?> PTtlAsync(string key) => Database.KeyTimeToLiveAsync(key);

    /// <summary>Any command, routed by its first key when it has one.</summary>
    public Task<RedisResult> ExecuteAsync(string command, params object[] args) => Database.ExecuteAsync(command, args);

    /// <summary>A command on the first server, whatever its keys (admin commands: CLIENT PAUSE, DEBUG SLEEP).</summary>
    public Task<RedisResult> ServerExecuteAsync(string command, params object[] args) =>
        _multiplexer.GetServer(_multiplexer.GetEndPoints()[0]).ExecuteAsync(command, args);

    /// <summary>PUBLISH raw bytes.</summary>
    public Task<long> PublishAsync(string channel, byte[] message) => Database.PublishAsync(RedisChannel.Literal(channel), message);

    /// <summary>Every key matching <paramref name="pattern"/> on every primary.</summary>
    public async IAsyncEnumerable<string> ScanAsync(string pattern)
    {
        foreach (var server in _multiplexer.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 250))
            {
                yield return key!;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _multiplexer.DisposeAsync();
}
