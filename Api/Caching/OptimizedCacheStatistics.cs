using OptimizedCache.Api.Apis;
using OptimizedCache.Cache.Core;

namespace OptimizedCache.Api.Caching;

/// <summary>The cache's own statistics (hit rate, memory, per-type and top-key figures) for <c>/admin/cache/stats</c>.</summary>
internal sealed class OptimizedCacheStatistics(OptimizedHybridCache cache) : ICacheStatisticsSource
{
    public object? GetStatistics() => new
    {
        HitRate = cache.GetHitRate(),
        Memory = cache.GetMemoryUsage(),
        Performance = cache.GetPerformanceStats(),
        cache.HasDistributedTier,
    };
}
