using System.ComponentModel;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Cache.Core;

namespace OptimizedCache.Benchmarks;

/// <summary>
/// The L1 hit path: <see cref="OptimizedHybridCache"/>'s GetOrCreateAsync (immutable type, static lambda with state)
/// against <see cref="IMemoryCache.TryGetValue"/> on the same keys. Target: within 2× and 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class L1HitBenchmarks
{
    internal const int KeyCount = 1024;
    private static readonly HybridCacheEntryOptions LongLived = new() { Expiration = TimeSpan.FromHours(1) };

    private string[] _keys = [];
    private ServiceProvider? _services;
    private HybridCache _hybrid = null!;
    private OptimizedHybridCache _typed = null!;
    private MemoryCache _memory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _keys = Enumerable.Range(0, KeyCount).Select(i => $"product:{i}").ToArray();
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o =>
        {
            o.L1MaximumBytes = 256L << 20;
            o.DefaultEntryOptions = LongLived;
        });
        _services = services.BuildServiceProvider();
        _hybrid = _services.GetRequiredService<HybridCache>();
        _typed = _services.GetRequiredService<OptimizedHybridCache>();
        _memory = new MemoryCache(new MemoryCacheOptions());
        foreach (var key in _keys)
        {
            var product = new BenchProduct(key, 9.99m);
            _memory.Set(key, product, TimeSpan.FromHours(1));
            _ = _hybrid.GetOrCreateAsync(key, product, static (p, _) => ValueTask.FromResult(p), LongLived).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services?.Dispose();
        _memory.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = KeyCount)]
    public int MemoryCacheTryGetValue()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            if (_memory.TryGetValue(key, out BenchProduct? product) && product is not null)
            {
                found++;
            }
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int HybridGetOrCreateL1Hit()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            var pending = _hybrid.GetOrCreateAsync(key, key, static (k, _) => ValueTask.FromResult(new BenchProduct(k, 0m)), LongLived);
            if (pending.IsCompletedSuccessfully && pending.Result is not null)
            {
                found++;
            }
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int OptimizedTypedGetOrCreateL1Hit()
    {
        var cache = _typed;
        var found = 0;
        foreach (var key in _keys)
        {
            var pending = cache.GetOrCreateAsync(key, key, static (k, _) => ValueTask.FromResult(new BenchProduct(k, 0m)), LongLived);
            if (pending.IsCompletedSuccessfully && pending.Result is not null)
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>An immutable product by the HybridCache rule (sealed, <c>[ImmutableObject(true)]</c>).</summary>
    [ImmutableObject(true)]
    public sealed class BenchProduct(string sku, decimal price)
    {
        /// <summary>The product's SKU.</summary>
        public string Sku { get; } = sku;

        /// <summary>The product's price.</summary>
        public decimal Price { get; } = price;
    }
}
