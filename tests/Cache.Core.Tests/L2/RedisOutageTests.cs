using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;
using Xunit.Abstractions;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>Redis down at start-up or killed under load: no request fails, the circuit opens, and L2 comes back.</summary>
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    private static readonly HybridCacheEntryOptions ThroughL2 = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
    };

    [Fact]
    public async Task KillingRedisUnderLoadFailsNoReadOpensTheCircuitAndL2HitsResumeWithinFiveSecondsOfTheRestart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var cache = await L2Cache.StartAsync(server.ConnectionString, "outage"); // default resilience settings
        using var metrics = new MetricRecorder(cache.Cache);
        var states = new List<L2CircuitState>();
        cache.Tier.Redis.CircuitStateChanged += (_, state) =>
        {
            lock (states)
            {
                states.Add(state);
            }
        };

        using var stop = new CancellationTokenSource();
        long reads = 0;
        var failures = new List<string>();
        var readers = Enumerable.Range(0, 8).Select(r => Task.Run(async () =>
        {
            var i = r;
            while (!stop.IsCancellationRequested)
            {
                var key = $"product:{i++ % 40}";
                try
                {
                    var value = await cache.Cache.GetOrCreateAsync(key, async _ =>
                    {
                        await Task.Yield();
                        return "value of " + key;
                    }, ThroughL2);
                    if (value != "value of " + key)
                    {
                        lock (failures)
                        {
                            failures.Add($"wrong value for {key}: {value}");
                        }
                    }

                    Interlocked.Increment(ref reads);
                }
                catch (Exception ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex.GetType().Name + ": " + ex.Message);
                    }
                }
            }
        })).ToArray();

        await WaitUntilAsync(() => cache.Cache.GetPerformanceStats().L2Hits > 100, "L2 hits before the outage");
        server.Kill();
        await WaitUntilAsync(() => cache.Tier.Redis.CircuitState == L2CircuitState.Open, "the circuit to open");
        var readsBefore = Interlocked.Read(ref reads);
        await Task.Delay(500);
        Assert.True(Interlocked.Read(ref reads) > readsBefore, "reads go on while Redis is down");

        var health = await new OptimizedHybridCacheHealthCheck(cache.Cache).CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, health.Status);
        metrics.Collect();
        Assert.Contains(2.0, metrics.Values(OptimizedCacheMetrics.L2CircuitState));
        Assert.True(metrics.Sum(OptimizedCacheMetrics.L2Errors, ("operation", "get")) > 0);

        await server.StartAsync();
        var restarted = Stopwatch.StartNew();
        var hitsAtRestart = cache.Cache.GetPerformanceStats().L2Hits;
        await WaitUntilAsync(() => cache.Cache.GetPerformanceStats().L2Hits > hitsAtRestart + 10, "L2 hits after the restart", TimeSpan.FromSeconds(10));
        var recovery = restarted.Elapsed;
        output.WriteLine($"L2 hits resumed {recovery.TotalMilliseconds:0} ms after the restart; {Interlocked.Read(ref reads)} reads, none failed.");
        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Empty(failures);
        Assert.True(recovery < TimeSpan.FromSeconds(5), $"L2 hits resumed {recovery.TotalMilliseconds:0} ms after Redis came back");
        Assert.Equal(L2CircuitState.Closed, cache.Tier.Redis.CircuitState);
        lock (states)
        {
            Assert.Contains(L2CircuitState.Open, states);
            Assert.Equal(L2CircuitState.Closed, states[^1]);
        }
    }

    [Fact]
    public async Task AStalledRedisTimesOutOpensTheCircuitAndAHalfOpenProbeClosesItWhenRedisAnswersAgain()
    {
        await using var server = await RedisServer.StartAsync();
        await using var cache = await L2Cache.StartAsync(server.ConnectionString, "stall", o =>
        {
            o.Resilience.Timeout = TimeSpan.FromMilliseconds(100);
            o.Resilience.MinimumThroughput = 4;
            o.Resilience.SamplingDuration = TimeSpan.FromSeconds(1);
            o.Resilience.BreakDuration = TimeSpan.FromMilliseconds(1500); // long enough that the 20 reads below all fall while it is open
        });
        using var metrics = new MetricRecorder(cache.Cache);
        var states = new List<L2CircuitState>();
        cache.Tier.Redis.CircuitStateChanged += (_, state) =>
        {
            lock (states)
            {
                states.Add(state);
            }
        };
        await using var admin = await RawRedis.ConnectAsync(server.ConnectionString);
        _ = admin.ExecuteAsync("DEBUG", ["SLEEP", "1.5"]); // the server answers nobody for 1.5 s

        var stalled = Stopwatch.StartNew();
        // open as the breaker reports it and as the cache applies it (its OnOpened callback may run just after the state
        // flips, and a read in between still goes to Redis)
        while (cache.Tier.Redis.CircuitState != L2CircuitState.Open || cache.Tier.Redis.IsAvailable)
        {
            Assert.Equal("v", await cache.Cache.GetOrCreateAsync("product:stall", _ => ValueTask.FromResult("v"), ThroughL2));
            Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(5), "the circuit did not open");
        }

        // while open, reads are served without calling the stalled server (no new timeout, no new error)
        var errorsWhenOpened = metrics.Sum(OptimizedCacheMetrics.L2Errors, ("operation", "get"));
        Assert.True(errorsWhenOpened >= 2);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v", await cache.Cache.GetOrCreateAsync("product:stall", _ => ValueTask.FromResult("v"), ThroughL2));
        }

        Assert.Equal(errorsWhenOpened, metrics.Sum(OptimizedCacheMetrics.L2Errors, ("operation", "get")));

        await WaitUntilAsync(() => stalled.Elapsed > TimeSpan.FromSeconds(1.6), "the stall to end");
        while (cache.Tier.Redis.CircuitState != L2CircuitState.Closed)
        {
            Assert.Equal("v", await cache.Cache.GetOrCreateAsync("product:stall", _ => ValueTask.FromResult("v"), ThroughL2));
            Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(10), "the half-open probe did not close the circuit");
            await Task.Delay(20);
        }

        lock (states)
        {
            Assert.Equal([L2CircuitState.Open, L2CircuitState.HalfOpen, L2CircuitState.Closed], states.Distinct().ToArray());
        }
    }

    [Fact]
    public async Task TheCacheStartsAndServesWithRedisDownAndUsesL2OnceRedisIsUp()
    {
        await using var server = await RedisServer.StartAsync();
        server.Kill();
        await using var cache = await L2Cache.StartAsync(server.ConnectionString, "late", waitForRedis: false);

        var calls = 0;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v", await cache.Cache.GetOrCreateAsync("product:late", _ =>
            {
                calls++;
                return ValueTask.FromResult("v");
            }, ThroughL2));
        }

        Assert.Equal(20, calls); // no L2, no L1 (by the flags): every read went to the factory, none failed
        await server.StartAsync();
        await cache.WaitUntilL2AvailableAsync(TimeSpan.FromSeconds(15));
        await cache.Cache.SetAsync("product:late", "stored");

        Assert.Equal("stored", await cache.Cache.GetOrCreateAsync("product:late", _ => ValueTask.FromResult("unexpected"), ThroughL2));
        Assert.Equal(1, cache.Cache.GetPerformanceStats().L2Hits);
    }

    [Fact]
    public async Task WritesAndInvalidationsWithRedisDownDoNotThrow()
    {
        await using var server = await RedisServer.StartAsync();
        await using var cache = await L2Cache.StartAsync(server.ConnectionString, "down");
        server.Kill();

        await cache.Cache.SetAsync("product:d", "local");
        await cache.Cache.RemoveAsync("product:other");
        await cache.Cache.RemoveByTagAsync("catalog:d");

        Assert.Equal("local", await cache.Cache.GetOrCreateAsync("product:d", _ => ValueTask.FromResult("unexpected")));
        Assert.False(await cache.Tier.RemoveByTagAsync("catalog:e", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)), $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
