using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Connection checks (seed 001 §3: verify_redis_connection, test_redis_operations set/get/del/ttl, verify_redis_pool)
/// through StackExchange.Redis, the client the cache uses: reachable, SET/GET/PTTL/DEL round trip, authentication (the password works; a wrong
/// one and none are refused), many concurrent callers on the one multiplexed connection, and PING latency p50/p99.
/// </summary>
public sealed class VerifyRedisTool : VerificationTool
{
    /// <inheritdoc />
    public override string Name => "verify-redis";

    /// <inheritdoc />
    public override string Description => "Redis connection checks: reachable, SET/GET/PTTL/DEL, auth, concurrency, PING latency";

    internal override IReadOnlyList<ToolOption> Options =>
    [
        new("connection", "connection string (StackExchange.Redis format: host:port,password=...; default $OC_REDIS, which keeps a password off the command line)", Environment.GetEnvironmentVariable("OC_REDIS") ?? "127.0.0.1:6379"),
        new("pings", "PINGs for the latency figures", "1000"),
        new("max-p99-ms", "PING p99 above this fails", "5"),
        new("callers", "concurrent callers on the one connection", "64"),
    ];

    internal override async Task<JsonObject> ExecuteAsync()
    {
        var connection = Args.Required("connection");
        var options = ConfigurationOptions.Parse(connection);
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.AllowAdmin = true;
        var pings = Args.Int("pings", 10, 1_000_000);
        var maxP99 = Args.Double("max-p99-ms", 0);
        var callers = Args.Int("callers", 1, 10_000);
        var data = new JsonObject { ["endpoint"] = string.Join(",", options.EndPoints.Select(e => e.ToString())) };

        ConnectionMultiplexer multiplexer;
        var clock = Stopwatch.StartNew();
        try
        {
            multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisException e)
        {
            Record(new Check("reachable", false, "no connection", e.Message));
            return data;
        }

        await using (multiplexer)
        {
            var client = multiplexer.GetDatabase();
            var version = ParseInfo(await multiplexer.GetServer(multiplexer.GetEndPoints()[0]).InfoRawAsync("server") ?? "").GetValueOrDefault("redis_version", "?");
            data["redisVersion"] = version;
            data["connectMs"] = Json.Num(clock.Elapsed.TotalMilliseconds);
            Record(new Check("reachable", true, $"Redis {version}, connected in {clock.Elapsed.TotalMilliseconds:0.0} ms"));
            await RoundTripAsync(client);
            await AuthenticationAsync(connection);
            await ConcurrencyAsync(client, callers);
            var (p50, p99, max) = await LatencyAsync(client, pings);
            data["pingP50Ms"] = Json.Num(p50, 4);
            data["pingP99Ms"] = Json.Num(p99, 4);
            data["pingMaxMs"] = Json.Num(max, 4);
            data["pings"] = pings;
            Record(new Check("latency", p99 <= maxP99, $"p50 {p50:0.000} ms, p99 {p99:0.000} ms, max {max:0.000} ms over {pings} PINGs", $"p99 must be <= {maxP99} ms"));
        }

        return data;
    }

    private async Task RoundTripAsync(IDatabase client)
    {
        var key = $"verification:{Guid.NewGuid():N}";
        var value = Encoding.UTF8.GetBytes($"round trip {DateTimeOffset.UtcNow:O}");
        try
        {
            var set = await client.StringSetAsync(key, value, TimeSpan.FromSeconds(60));
            var read = (byte[]?)await client.StringGetAsync(key);
            var ttl = await client.KeyTimeToLiveAsync(key);
            var deleted = await client.KeyDeleteAsync([key]);
            var after = (byte[]?)await client.StringGetAsync(key);
            Record(new Check("SET with expiry", set, set ? "OK" : "not stored"));
            Record(new Check("GET", read is not null && read.AsSpan().SequenceEqual(value), read is null ? "nil" : $"{read.Length} bytes, equal"));
            var ttlOk = ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromSeconds(60);
            Record(new Check("PTTL", ttlOk, ttl is { } tt ? $"{tt.TotalMilliseconds:0} ms" : "none", "must be in (0, 60000] ms"));
            Record(new Check("DEL", deleted == 1 && after is null, $"deleted {deleted}, GET after DEL {(after is null ? "nil" : "still there")}"));
        }
        catch (RedisException e)
        {
            Record(new Check("SET/GET/PTTL/DEL round trip", false, "error", e.Message));
        }
    }

    private async Task AuthenticationAsync(string connection)
    {
        var options = ConfigurationOptions.Parse(connection);
        if (string.IsNullOrEmpty(options.Password))
        {
            // No password given: report whether the server lets anyone in, which is a finding, not a failure here.
            Record(new Check("authentication", null, "no password in the connection string", "give password=... to check that AUTH is enforced"));
            return;
        }

        Record(new Check("authentication with the given password", true, "accepted"));
        var wrong = ConfigurationOptions.Parse(connection);
        wrong.Password = options.Password + "-wrong";
        Record(new Check("wrong password refused", await IsRefusedAsync(wrong), "connect with a wrong password"));
        var none = ConfigurationOptions.Parse(connection);
        none.Password = null;
        none.User = null;
        Record(new Check("no password refused", await IsRefusedAsync(none), "connect without AUTH, then GET"));
    }

    private static async Task<bool> IsRefusedAsync(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        try
        {
            await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
            await multiplexer.GetDatabase().StringGetAsync("verification:auth-probe");
            return false;
        }
        catch (RedisException)
        {
            return true;
        }
    }

    private async Task ConcurrencyAsync(IDatabase client, int callers)
    {
        var key = $"verification:concurrency:{Guid.NewGuid():N}";
        var clock = Stopwatch.StartNew();
        try
        {
            var results = await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
            {
                long last = 0;
                for (var i = 0; i < 50; i++)
                {
                    last = await client.StringIncrementAsync(key);
                }

                return last;
            }));
            var total = long.Parse((string?)await client.StringGetAsync(key) ?? "0", CultureInfo.InvariantCulture);
            await client.KeyDeleteAsync(key);
            Record(new Check("concurrent callers on one connection", total == callers * 50L,
                $"{callers} callers × 50 INCR = {total} in {clock.Elapsed.TotalMilliseconds:0} ms", "the multiplexed client replaces a connection pool"));
        }
        catch (RedisException e)
        {
            Record(new Check("concurrent callers on one connection", false, "error", e.Message));
        }
    }

    private static async Task<(double P50, double P99, double Max)> LatencyAsync(IDatabase client, int pings)
    {
        for (var i = 0; i < Math.Min(100, pings); i++)
        {
            await client.PingAsync();
        }

        var samples = new double[pings];
        for (var i = 0; i < pings; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.PingAsync();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(samples);
        return (Statistics.Percentile(samples, 50), Statistics.Percentile(samples, 99), samples[^1]);
    }

    private static Dictionary<string, string> ParseInfo(string info) =>
        info.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(':', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
}
