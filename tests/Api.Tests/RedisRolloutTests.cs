using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Api.Origin;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>The rollout phase stored in a real Redis: shared by replicas, kept across restarts, and rolled back locally while Redis is down.</summary>
public sealed class RedisRolloutTests : IClassFixture<RedisFixture>
{
    private readonly RedisFixture _redis;

    public RedisRolloutTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task APhaseChangeReachesASecondInstanceThroughRedis()
    {
        var settings = Settings();
        await using var first = await ApiHost.StartAsync(settings);
        await using var second = await ApiHost.StartAsync(settings);
        await first.SetPhaseAsync(2);

        var watch = Stopwatch.StartNew();
        while (await PhaseAsync(second) != 2 && watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        Assert.Equal(2, await PhaseAsync(second));
        Assert.Equal("MISS", (await second.Client.GetAsync("/api/products/8")).CacheHeader());
    }

    [Fact]
    public async Task ThePhaseSurvivesARestart()
    {
        var settings = Settings();
        await using (var before = await ApiHost.StartAsync(settings))
        {
            await before.SetPhaseAsync(3);
        }

        await using var after = await ApiHost.StartAsync(settings);
        var status = await (await after.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(3, status.GetProperty("phase").GetInt32());
        Assert.True(status.GetProperty("shared").GetBoolean());
        Assert.Equal(3, status.GetProperty("history")[0].GetProperty("to").GetInt32());
    }

    [Fact]
    public async Task TheCachesPatternInvalidationsCannotReachTheRolloutStateWithDefaultPrefixes()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:cache"] = redis.ConnectionString };
        await using (var before = await ApiHost.StartAsync(settings))
        {
            await before.SetPhaseAsync(2);
            var cache = before.Services.GetRequiredService<OptimizedCache.Cache.Core.OptimizedHybridCache>();
            await cache.InvalidateAsync("rollout*");
        }

        await using var after = await ApiHost.StartAsync(settings);
        Assert.Equal(2, await PhaseAsync(after));
    }

    [Fact]
    public async Task WithRedisDownARollbackStillAppliesLocallyAndIsStoredWhenRedisReturns()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = Settings(redis.ConnectionString);
        await using var api = await ApiHost.StartAsync(settings);
        await api.SetPhaseAsync(3);

        redis.Kill();
        using (var rollback = await api.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=complete", new { reason = "redis drill" }))
        {
            var status = await rollback.JsonAsync();
            Assert.Equal(0, status.GetProperty("phase").GetInt32());
            Assert.False(status.GetProperty("persisted").GetBoolean());
        }

        using (var read = await api.Client.GetAsync("/api/products/4"))
        {
            Assert.True(read.IsSuccessStatusCode);
            Assert.Equal("BYPASS", read.CacheHeader());
        }

        await redis.StartAsync();
        var watch = Stopwatch.StartNew();
        while (!(await (await api.Client.GetAsync("/admin/rollout")).JsonAsync()).GetProperty("persisted").GetBoolean()
            && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }

        // The restarted Redis keeps nothing (no persistence), so what a new replica reads is what the
        // rolled-back replica stored once Redis returned.
        await using var restarted = await ApiHost.StartAsync(settings);
        var stored = await (await restarted.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(0, stored.GetProperty("phase").GetInt32());
        Assert.Equal("redis drill", stored.GetProperty("history")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AWriteIsReadBackOnTheInstanceThatMadeItWhileAnotherReplicaSharesTheStore()
    {
        var settings = Settings();
        var store = new SimulatedStoreOrigin(
            Microsoft.Extensions.Options.Options.Create(new SimulatedOriginOptions { Products = 2000, Customers = 500, Collections = 20, LatencyMedianMs = 0, RateLimitBucketSize = 0 }),
            TimeProvider.System);
        await using var first = await ApiHost.StartAsync(settings, s => s.AddSingleton(store));
        await using var second = await ApiHost.StartAsync(settings, s => s.AddSingleton(store));
        await first.SetPhaseAsync(2);
        using (await first.Client.GetAsync("/api/products/77"))
        {
        }

        using (var update = await second.Client.PutAsJsonAsync("/api/products/77", new { title = "Written On Second" }))
        {
            update.EnsureSuccessStatusCode();
        }

        var onSecond = await (await second.Client.GetAsync("/api/products/77")).JsonAsync();
        Assert.Equal("Written On Second", onSecond.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AfterRedisLosesItsDataEveryReplicaARestartedOneIncludedEndsOnTheDecidedPhaseWithItsHistory()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = Settings(redis.ConnectionString);
        await using var first = await ApiHost.StartAsync(settings);
        var second = await ApiHost.StartAsync(settings);
        await first.SetPhaseAsync(1);
        await WaitForPhaseAsync(second, 1);

        // Redis without persistence, killed and started again on the same port: the state key is gone
        redis.Kill();
        await redis.StartAsync();
        await second.DisposeAsync();
        await using var restarted = await ApiHost.StartAsync(settings);

        await WaitForPhaseAsync(restarted, 1);
        Assert.Equal(1, await PhaseAsync(first));
        var status = await (await restarted.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(1, status.GetProperty("history")[0].GetProperty("to").GetInt32());
        Assert.Equal("test setup", status.GetProperty("history")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ARollbackOrderedWhileRedisIsDownHoldsOnEveryReplicaWhenRedisReturnsEmpty()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = Settings(redis.ConnectionString);
        await using var first = await ApiHost.StartAsync(settings);
        await using var second = await ApiHost.StartAsync(settings);
        await first.SetPhaseAsync(2);
        await WaitForPhaseAsync(second, 2);

        redis.Kill();
        using (var rollback = await first.Client.PostAsJsonAsync("/admin/rollout/rollback?scope=current", new { reason = "while redis is down", from = 2 }))
        {
            Assert.Equal(1, (await rollback.JsonAsync()).GetProperty("phase").GetInt32());
        }

        // the second replica still holds the older advance (phase 2) and puts it back as well: the rollback must win
        await redis.StartAsync();
        await WaitForPhaseAsync(second, 1);
        Assert.Equal(1, await PhaseAsync(first));
        await using var third = await ApiHost.StartAsync(settings);
        await WaitForPhaseAsync(third, 1);
    }

    private static async Task WaitForPhaseAsync(ApiHost api, int phase)
    {
        var watch = Stopwatch.StartNew();
        while (await PhaseAsync(api) != phase)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"phase {phase} did not arrive within 5 s (still {await PhaseAsync(api)})");
            await Task.Delay(50);
        }
    }

    private Dictionary<string, string?> Settings(string? connectionString = null) => new()
    {
        ["Rollout:RedisConnectionString"] = connectionString ?? _redis.Server.ConnectionString,
        ["Rollout:KeyPrefix"] = "t" + Guid.NewGuid().ToString("N")[..10],
    };

    private static async Task<int> PhaseAsync(ApiHost api) =>
        (await (await api.Client.GetAsync("/admin/rollout")).JsonAsync()).GetProperty("phase").GetInt32();
}
