using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// Two replicas over one Redis and one shared origin, as the launcher and the AppHost run them: a write through
/// one replica must not leave the other serving its cached copy.
/// </summary>
public sealed class ReplicaCoherenceTests
{
    [Fact]
    public async Task AnUpdateThroughOneReplicaReachesTheOtherReplicasCachedRead()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var origin = await OriginServerHost.StartAsync();
        var settings = origin.ReplicaSettings(("ConnectionStrings:cache", redis.ConnectionString));
        await using var a = await ApiHost.StartAsync(settings);
        await using var b = await ApiHost.StartAsync(settings);
        await a.SetPhaseAsync(3);
        await WaitForPhaseAsync(b, 3);

        // B caches the product (MISS, then HIT from its L1).
        using (var first = await b.Client.GetAsync("/api/products/33"))
        {
            first.EnsureSuccessStatusCode();
        }

        using (var second = await b.Client.GetAsync("/api/products/33"))
        {
            Assert.Equal("HIT", second.CacheHeader());
        }

        using (var update = await a.Client.PutAsJsonAsync("/api/products/33", new { title = "Coherent Lamp", price = 7.25m }))
        {
            update.EnsureSuccessStatusCode();
        }

        // The invalidation crosses replicas over Redis pub/sub; allow a generous bound for a loaded machine.
        string? title = null;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            var product = await (await b.Client.GetAsync("/api/products/33")).JsonAsync();
            title = product.GetProperty("title").GetString();
            if (title == "Coherent Lamp")
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal("Coherent Lamp", title);
    }

    [Fact]
    public async Task CacheSettingsFromConfigurationReachTheCache()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Cache:L1MaximumBytes"] = "33554432" });

        var cache = api.Services.GetRequiredService<OptimizedHybridCache>();

        Assert.Equal(33554432, cache.GetMemoryUsage().ConfiguredBudgetBytes);
    }

    private static async Task WaitForPhaseAsync(ApiHost host, int phase)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            var state = await (await host.Client.GetAsync("/admin/rollout")).JsonAsync();
            if (state.GetProperty("phase").GetInt32() == phase)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"phase {phase} did not reach the replica");
    }
}
