using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OptimizedCache.Cache.Core;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>ConnectionStrings:cache turns on the cache's Redis tier: replicas share cached reads through it.</summary>
public sealed class CacheTierTests
{
    [Fact]
    public async Task WithConnectionStringsCacheSetReplicasShareCachedReadsThroughRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:cache"] = redis.ConnectionString };
        await using var first = await ApiHost.StartAsync(settings);
        await using var second = await ApiHost.StartAsync(settings);
        await first.SetPhaseAsync(3);
        await second.SetPhaseAsync(3);
        var cache = first.Services.GetRequiredService<OptimizedHybridCache>();
        Assert.True(cache.HasDistributedTier);
        var checks = first.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Contains(checks, r => r.Name == OptimizedHybridCacheHealthCheck.Name);

        // the cache connects to Redis in the background (start-up never waits for it, and a write made before the
        // connection is up stays in L1 only): wait until both replicas' tiers report healthy, as a load balancer's
        // readiness probe would
        Assert.Equal(HealthStatus.Healthy, await WaitForCacheTierAsync(first));
        Assert.Equal(HealthStatus.Healthy, await WaitForCacheTierAsync(second));

        using (var response = await first.Client.GetAsync("/api/products/5"))
        {
            response.EnsureSuccessStatusCode();
        }

        await using var raw = await RawRedis.ConnectAsync(redis.ConnectionString);
        var stored = new List<string>();
        for (var i = 0; i < 100 && stored.Count == 0; i++)
        {
            await foreach (var key in raw.ScanAsync("oc:{??}:product:*"))
            {
                stored.Add(key);
            }

            await Task.Delay(20);
        }

        Assert.NotEmpty(stored);
        var secondCache = second.Services.GetRequiredService<OptimizedHybridCache>();
        using (var response = await second.Client.GetAsync("/api/products/5"))
        {
            response.EnsureSuccessStatusCode();
            Assert.Equal("HIT", response.Headers.GetValues("X-Cache").Single());
        }

        Assert.True(secondCache.GetPerformanceStats().L2Hits >= 1);
    }

    private static async Task<HealthStatus> WaitForCacheTierAsync(ApiHost host)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var status = HealthStatus.Unhealthy;
        for (var i = 0; i < 100 && status != HealthStatus.Healthy; i++)
        {
            status = (await health.CheckHealthAsync(r => r.Name == OptimizedHybridCacheHealthCheck.Name)).Status;
            if (status != HealthStatus.Healthy)
            {
                await Task.Delay(50);
            }
        }

        return status;
    }
}
