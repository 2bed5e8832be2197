using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.Cache.Core;

/// <summary>Returned by <c>AddOptimizedHybridCache</c> to configure the cache further (serializers).</summary>
public interface IOptimizedHybridCacheBuilder
{
    /// <summary>The services the cache is registered in.</summary>
    IServiceCollection Services { get; }
}
