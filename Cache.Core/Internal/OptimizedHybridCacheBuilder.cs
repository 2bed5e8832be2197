using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.Cache.Core.Internal;

internal sealed class OptimizedHybridCacheBuilder(IServiceCollection services) : IOptimizedHybridCacheBuilder
{
    public IServiceCollection Services { get; } = services;
}
