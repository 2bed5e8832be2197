using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>A cache built the way an application builds it (through the container), on a fake clock.</summary>
public sealed class TestCache : IDisposable
{
    private readonly ServiceProvider _services;

    private TestCache(ServiceProvider services, FakeTimeProvider time)
    {
        _services = services;
        Time = time;
        Cache = services.GetRequiredService<OptimizedHybridCache>();
    }

    public OptimizedHybridCache Cache { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _services;

    internal static TestCache Create(
        Action<OptimizedHybridCacheOptions>? configure = null,
        Action<IOptimizedHybridCacheBuilder>? build = null,
        Func<MemorySnapshot>? memory = null)
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<MemorySnapshotSource>(memory is null
            ? () => new MemorySnapshot(8L << 30, 1L << 30, 7L << 30)
            : () => memory());
        var builder = services.AddOptimizedHybridCache(options =>
        {
            options.L1MaximumBytes = 64L << 20;
            configure?.Invoke(options);
        });
        build?.Invoke(builder);
        return new TestCache(services.BuildServiceProvider(), time);
    }

    public void Dispose() => _services.Dispose();
}
