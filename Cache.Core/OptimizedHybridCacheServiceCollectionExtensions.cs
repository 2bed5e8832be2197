using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OptimizedCache.Cache.Core;
using OptimizedCache.Cache.Core.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="OptimizedHybridCache"/>.</summary>
public static class OptimizedHybridCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="OptimizedHybridCache"/> as itself and as <see cref="HybridCache"/>, with options validated
    /// when the host starts, and adds the <c>optimizedcache</c> health check
    /// (<see cref="OptimizedHybridCacheHealthCheck"/>). Without a Redis connection string the cache runs L1 only;
    /// with one it runs L1 + L2, connecting in the background (start-up never fails because Redis is down).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options; may be null for the defaults.</param>
    /// <returns>A builder to add serializers with.</returns>
    public static IOptimizedHybridCacheBuilder AddOptimizedHybridCache(this IServiceCollection services, Action<OptimizedHybridCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<OptimizedHybridCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OptimizedHybridCacheOptions>, OptimizedHybridCacheOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new OptimizedHybridCache(sp.GetRequiredService<IOptions<OptimizedHybridCacheOptions>>(), sp));
        services.TryAddSingleton<HybridCache>(static sp => sp.GetRequiredService<OptimizedHybridCache>());
        if (!services.Any(d => d.ServiceType == typeof(OptimizedHybridCacheHealthCheck)))
        {
            // once, however often this is called: a second registration of the name would fail every health request
            services.AddSingleton<OptimizedHybridCacheHealthCheck>();
            services.AddHealthChecks().AddCheck<OptimizedHybridCacheHealthCheck>(OptimizedHybridCacheHealthCheck.Name, HealthStatus.Degraded);
        }
        return new OptimizedHybridCacheBuilder(services);
    }
}
