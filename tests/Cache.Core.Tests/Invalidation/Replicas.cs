using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Invalidation;

/// <summary>
/// Several cache instances (replicas, each with its own L1) over one real <c>redis-server</c>, on the real clock:
/// what one instance invalidates the others must drop.
/// </summary>
internal sealed class Replicas : IAsyncDisposable
{
    /// <summary>Give up a connection attempt quickly, so restarts in tests take tenths of a second, not seconds.</summary>
    public const string FastReconnect = ",connectTimeout=1000";

    private readonly List<ServiceProvider> _providers = [];

    private Replicas(RedisServer server) => Server = server;

    public RedisServer Server { get; }

    public List<OptimizedHybridCache> Caches { get; } = [];

    public OptimizedHybridCache this[int index] => Caches[index];

    public static async Task<Replicas> StartAsync(int count, Action<OptimizedHybridCacheOptions>? configure = null, RedisServer? server = null)
    {
        var replicas = new Replicas(server ?? await RedisServer.StartAsync());
        try
        {
            for (var i = 0; i < count; i++)
            {
                replicas.Add(configure);
            }

            await replicas.WaitUntilListeningAsync();
            return replicas;
        }
        catch
        {
            await replicas.DisposeAsync(); // the server too: a failed start leaves no redis-server behind
            throw;
        }
    }

    public OptimizedHybridCache Add(Action<OptimizedHybridCacheOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<MemorySnapshotSource>(() => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30));
        services.AddOptimizedHybridCache(options =>
        {
            options.L1MaximumBytes = 64L << 20;
            options.RedisConnectionString = Server.ConnectionString + FastReconnect;
            options.Resilience.Timeout = TimeSpan.FromMilliseconds(500);
            options.Resilience.MaximumReconnectDelay = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(options);
        });
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        Caches.Add(cache);
        return cache;
    }

    public async Task WaitUntilListeningAsync()
    {
        foreach (var cache in Caches)
        {
            await cache.Subscription.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Waits until <paramref name="cache"/> has applied more remote invalidations than <paramref name="before"/>.</summary>
    public static async Task WaitForRemoteAsync(OptimizedHybridCache cache, long before, int atLeast = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (cache.RemoteInvalidationsApplied < before + atLeast)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the invalidation did not arrive within 5 s ({cache.RemoteInvalidationsApplied - before} of {atLeast})");
            await Task.Delay(1);
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not happen within {seconds} s");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}
