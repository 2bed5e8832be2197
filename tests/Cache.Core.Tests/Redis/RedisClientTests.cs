using System.Text;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Redis;

/// <summary>Every command against a real redis-server, pipelining under concurrency, timeouts and cancellation.</summary>
public sealed class RedisClientTests(RedisFixture fixture) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private RedisClient _client = null!;

    public async Task InitializeAsync() => _client = await RedisClient.ConnectAsync(fixture.Server.ConnectionString);

    public async Task DisposeAsync() => await _client.DisposeAsync();

    private static string Key(string name) => $"t:{Guid.NewGuid():N}:{name}";

    [Fact]
    public async Task ConnectsAndAnswersPing()
    {
        Assert.Equal(RedisConnectionState.Connected, _client.State);
        Assert.True(await _client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task SetThenGetReturnsTheSameBytes()
    {
        var key = Key("bytes");
        var value = new byte[1024];
        new Random(1).NextBytes(value);

        Assert.True(await _client.SetAsync(key, value));

        Assert.Equal(value, await _client.GetAsync(key));
    }

    [Fact]
    public async Task GetOfAMissingKeyIsNull()
    {
        Assert.Null(await _client.GetAsync(Key("missing")));
        Assert.Null(await _client.GetStringAsync(Key("missing")));
    }

    [Fact]
    public async Task StringValuesRoundTripAsUtf8()
    {
        var key = Key("text");
        await _client.SetAsync(key, "grüße 東京");

        Assert.Equal("grüße 東京", await _client.GetStringAsync(key));
    }

    [Fact]
    public async Task SetWithExpirySetsATimeToLive()
    {
        var key = Key("px");
        await _client.SetAsync(key, "v", expiry: TimeSpan.FromSeconds(30));

        var ttl = await _client.PTtlAsync(key);

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task SetNotExistsWritesOnlyTheFirstTime()
    {
        var key = Key("nx");

        Assert.True(await _client.SetAsync(key, "first", condition: SetCondition.NotExists));
        Assert.False(await _client.SetAsync(key, "second", condition: SetCondition.NotExists));
        Assert.Equal("first", await _client.GetStringAsync(key));
    }

    [Fact]
    public async Task SetExistsWritesOnlyAnExistingKey()
    {
        var key = Key("xx");

        Assert.False(await _client.SetAsync(key, "v", condition: SetCondition.Exists));
        Assert.Null(await _client.GetAsync(key));
        await _client.SetAsync(key, "a");
        Assert.True(await _client.SetAsync(key, "b", condition: SetCondition.Exists));
        Assert.Equal("b", await _client.GetStringAsync(key));
    }

    [Fact]
    public async Task SetKeepTtlKeepsTheExpiry()
    {
        var key = Key("keepttl");
        await _client.SetAsync(key, "a", expiry: TimeSpan.FromMinutes(5));

        await _client.SetAsync(key, "b", keepTtl: true);

        Assert.NotNull(await _client.PTtlAsync(key));
        await _client.SetAsync(key, "c");
        Assert.Null(await _client.PTtlAsync(key));
    }

    [Fact]
    public async Task SetAndGetReturnsThePreviousValue()
    {
        var key = Key("setget");

        Assert.Null(await _client.SetAndGetAsync(key, "one"u8.ToArray()));
        Assert.Equal("one"u8.ToArray(), await _client.SetAndGetAsync(key, "two"u8.ToArray(), expiry: TimeSpan.FromMinutes(1)));
        Assert.Equal("two", await _client.GetStringAsync(key));
    }

    [Fact]
    public async Task SetRejectsAnExpiryTogetherWithKeepTtl()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _client.SetAsync(Key("bad"), "v", TimeSpan.FromSeconds(1), keepTtl: true));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.SetAsync(Key("bad"), "v", TimeSpan.Zero));
    }

    [Fact]
    public async Task MGetReturnsValuesInKeyOrderWithNullForMissingKeys()
    {
        var a = Key("a");
        var c = Key("c");
        await _client.SetAsync(a, "1");
        await _client.SetAsync(c, "3");

        var values = await _client.MGetAsync([a, Key("b"), c]);

        Assert.Equal(["1"u8.ToArray(), null, "3"u8.ToArray()], values);
    }

    [Fact]
    public async Task DelUnlinkAndExistsCountKeys()
    {
        string[] keys = [Key("1"), Key("2"), Key("3")];
        foreach (var key in keys)
        {
            await _client.SetAsync(key, "v");
        }

        Assert.Equal(3, await _client.ExistsAsync(keys));
        Assert.Equal(1, await _client.DelAsync([keys[0], Key("none")]));
        Assert.Equal(2, await _client.UnlinkAsync(keys));
        Assert.Equal(0, await _client.ExistsAsync(keys));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.DelAsync([]));
    }

    [Fact]
    public async Task PExpireSetsATtlAndPTtlIsNullWithoutOne()
    {
        var key = Key("pexpire");
        Assert.False(await _client.PExpireAsync(key, TimeSpan.FromSeconds(10)));
        Assert.Null(await _client.PTtlAsync(key));
        await _client.SetAsync(key, "v");
        Assert.Null(await _client.PTtlAsync(key));

        Assert.True(await _client.PExpireAsync(key, TimeSpan.FromSeconds(10)));

        Assert.InRange(await _client.PTtlAsync(key) ?? TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task IncrCountsUpFromZero()
    {
        var key = Key("incr");

        Assert.Equal(1, await _client.IncrAsync(key));
        Assert.Equal(2, await _client.IncrAsync(key));
    }

    [Fact]
    public async Task AWrongTypeErrorIsARedisServerException()
    {
        var key = Key("list");
        await _client.ExecuteAsync("LPUSH", [key, "x"]);

        var ex = await Assert.ThrowsAsync<RedisServerException>(() => _client.GetAsync(key));

        Assert.Equal("WRONGTYPE", ex.ErrorCode);
        Assert.Equal("pong", await _client.ExecuteAsync("ECHO", ["pong"]) is var r ? r.AsString() : null);
    }

    [Fact]
    public async Task ScanReturnsEveryMatchingKeyAcrossPages()
    {
        var prefix = $"scan:{Guid.NewGuid():N}:";
        var expected = Enumerable.Range(0, 120).Select(i => prefix + i).ToHashSet();
        foreach (var key in expected)
        {
            await _client.SetAsync(key, "v");
        }

        await _client.SetAsync(Key("other"), "v");

        var seen = new HashSet<string>();
        await foreach (var key in _client.ScanAsync(prefix + "*", count: 10))
        {
            seen.Add(key);
        }

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task EvalRunsAScriptByShaAndFallsBackToEvalAfterAFlush()
    {
        var key = Key("eval");
        var script = new RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])");
        await _client.ExecuteAsync("SCRIPT", ["FLUSH"]);

        var first = await _client.EvalAsync(script, [key, key + ":n"], ["v", 5]);
        var second = await _client.EvalAsync(script, [key, key + ":n"], ["w", 5]);
        await _client.ExecuteAsync("SCRIPT", ["FLUSH"]);
        var third = await _client.EvalAsync(script, [key, key + ":n"], ["x", 1]);

        Assert.Equal([5L, 10L, 11L], [first.AsInt64(), second.AsInt64(), third.AsInt64()]);
        Assert.Equal("x", await _client.GetStringAsync(key));
        Assert.Equal(1, (await _client.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1])).Elements[0].AsInt64());
    }

    [Fact]
    public async Task AFailingScriptThrowsTheServerError()
    {
        var ex = await Assert.ThrowsAsync<RedisServerException>(
            () => _client.EvalAsync(new RedisScript("return redis.error_reply('BOOM went the script')"), [], []));

        Assert.Contains("BOOM went the script", ex.Message);
    }

    [Fact]
    public async Task InfoReturnsTheRequestedSection()
    {
        var info = await _client.InfoAsync("server");

        Assert.Contains("redis_version:", info);
        Assert.DoesNotContain("used_memory:", info);
    }

    [Fact]
    public async Task ExecuteRunsAnyCommandWithTypedArguments()
    {
        var key = Key("hash");
        await _client.ExecuteAsync("HSET", [key, "f1", 42L, "f2", "x"u8.ToArray()]);

        var all = await _client.ExecuteAsync("HGETALL", [key]);

        Assert.Equal(RedisReplyKind.Array, all.Kind);
        var pairs = all.Elements.Select(e => e.AsString()).ToArray();
        Assert.Equal(new string?[] { "f1", "42", "f2", "x" }, pairs);
    }

    [Theory]
    [InlineData("SELECT")]
    [InlineData("subscribe")]
    [InlineData("MULTI")]
    [InlineData("HELLO")]
    [InlineData("GET key")]
    public async Task ExecuteRefusesCommandsThatWouldChangeTheSharedConnection(string command)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _client.ExecuteAsync(command, ["1"]));

        Assert.Contains(command, ex.Message);
    }

    [Fact]
    public async Task SixtyFourConcurrentCallersEachGetTheirOwnReplies()
    {
        var prefix = Key("pipe");
        const int callers = 64;
        const int perCaller = 150;

        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                await _client.SetAsync($"{prefix}:{c}:{i}", $"value-{c}-{i}");
            }
        })));
        var mismatches = 0;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var pending = new List<(int I, Task<string?> Value)>();
            for (var i = 0; i < perCaller; i++)
            {
                pending.Add((i, _client.GetStringAsync($"{prefix}:{c}:{i}")));
            }

            foreach (var (i, value) in pending)
            {
                if (await value != $"value-{c}-{i}")
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })));

        Assert.Equal(0, mismatches);
        Assert.Equal(callers * perCaller, await _client.ExistsAsync(
            Enumerable.Range(0, callers).SelectMany(c => Enumerable.Range(0, perCaller).Select(i => $"{prefix}:{c}:{i}")).ToArray()));
    }

    [Fact]
    public async Task ALoneCallerInterleavedWithBurstsOfConcurrentCallersGetsItsOwnReplies()
    {
        // The lone caller writes its commands itself; the bursts go through the batching writer. Switching between
        // the two must never put bytes on the wire in another order than the replies are expected.
        var prefix = Key("mix");
        const int keys = 100;
        for (var i = 0; i < keys; i++)
        {
            await _client.SetAsync($"{prefix}:{i}", $"value-{i}");
        }

        var mismatches = 0;
        using var stop = new CancellationTokenSource();
        var lone = Task.Run(async () =>
        {
            var gets = 0;
            for (var i = 0; !stop.IsCancellationRequested || gets < 500; i++, gets++)
            {
                if (await _client.GetStringAsync($"{prefix}:{i % keys}").ConfigureAwait(false) != $"value-{i % keys}")
                {
                    Interlocked.Increment(ref mismatches);
                }
            }

            return gets;
        });
        for (var burst = 0; burst < 10; burst++)
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    var k = (c * 7 + i + burst) % keys;
                    if (await _client.GetStringAsync($"{prefix}:{k}").ConfigureAwait(false) != $"value-{k}")
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }
            })));
            await Task.Delay(5);
        }

        stop.Cancel();

        Assert.True(await lone.WaitAsync(TimeSpan.FromSeconds(30)) >= 500);
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public async Task ACallerThatBlocksOnASecondCommandInsideItsContinuationDoesNotStallReplies()
    {
        // A reply's continuation may run on the thread that read it; the read loop must already be waiting for the
        // next read elsewhere, or this sync-over-async caller would wait for a reply that nobody reads.
        await using var client = await RedisClient.ConnectAsync(fixture.Server.ConnectionString + ",asyncTimeout=3000");
        var key = Key("blocking");
        await client.SetAsync(key, "v");

        var rounds = await Task.Run(async () =>
        {
            var done = 0;
            for (var i = 0; i < 50; i++)
            {
                var first = await client.GetStringAsync(key).ConfigureAwait(false);
                var second = client.GetStringAsync(key).GetAwaiter().GetResult();
                if (first == "v" && second == "v")
                {
                    done++;
                }
            }

            return done;
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(50, rounds);
    }

    [Fact]
    public async Task ATimedOutCommandDoesNotShiftTheRepliesOfLaterCommands()
    {
        await using var client = await RedisClient.ConnectAsync(fixture.Server.ConnectionString + ",asyncTimeout=300");
        var a = Key("a");
        var b = Key("b");
        await client.SetAsync(a, "value-a");
        await client.SetAsync(b, "value-b");

        var sleep = client.ExecuteAsync("DEBUG", ["SLEEP", "0.8"]);
        var queuedBehind = client.GetStringAsync(a);

        var timeout = await Assert.ThrowsAsync<RedisTimeoutException>(() => sleep);
        Assert.Equal("DEBUG", timeout.Command);
        await Assert.ThrowsAsync<RedisTimeoutException>(() => queuedBehind);
        await Task.Delay(700);

        Assert.Equal("value-b", await client.GetStringAsync(b));
        Assert.Equal("value-a", await client.GetStringAsync(a));
        Assert.Equal(1, await client.IncrAsync(Key("n")));
        Assert.Equal(RedisConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task ACancelledCommandDoesNotShiftTheRepliesOfLaterCommands()
    {
        var a = Key("a");
        await _client.SetAsync(a, "value-a");
        using var cts = new CancellationTokenSource();

        var sleep = _client.ExecuteAsync("DEBUG", ["SLEEP", "0.5"]);
        var cancelled = _client.GetStringAsync(Key("other"), cts.Token);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(RedisReplyKind.SimpleString, (await sleep).Kind);
        Assert.Equal("value-a", await _client.GetStringAsync(a));
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenSendsNothing()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.GetAsync(Key("x"), cts.Token));
        Assert.Equal(RedisConnectionState.Connected, _client.State);
    }

    [Fact]
    public async Task AReplyOverTheLimitResetsTheConnectionWhichThenRecovers()
    {
        var big = Key("big");
        await _client.SetAsync(big, new byte[4096]);
        await using var client = await RedisClient.ConnectAsync(fixture.Server.ConnectionString + ",maxReplyBytes=1024,reconnectMinDelay=20");
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionRestored += (_, _) => restored.TrySetResult();

        var ex = await Assert.ThrowsAsync<RedisProtocolException>(() => client.GetAsync(big));

        Assert.Contains("MaxReplyBytes", ex.Message);
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await client.SetAsync(big + ":small", "ok");
        Assert.Equal("ok", await client.GetStringAsync(big + ":small"));
    }

    [Fact]
    public async Task SelectsTheDefaultDatabaseAndSetsTheClientName()
    {
        await using var client = await RedisClient.ConnectAsync(fixture.Server.ConnectionString + ",defaultDatabase=5,name=oc-test-client");
        var key = Key("db");
        await client.SetAsync(key, "in-db-5");

        Assert.Null(await _client.GetAsync(key));
        Assert.Equal("in-db-5", await client.GetStringAsync(key));
        Assert.Equal("oc-test-client", (await client.ExecuteAsync("CLIENT", ["GETNAME"])).AsString());
        Assert.Contains("db=5", (await client.ExecuteAsync("CLIENT", ["INFO"])).AsString());
    }
}
