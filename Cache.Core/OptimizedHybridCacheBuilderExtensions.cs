using Microsoft.Extensions.Caching.Hybrid;
using OptimizedCache.Cache.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Serializer registration. Resolution order for a type <c>T</c>: a registered <see cref="IHybridCacheSerializer{T}"/>;
/// then the registered <see cref="IHybridCacheSerializerFactory"/> instances, the last added first; then the built-in
/// serializers (<see cref="string"/> as UTF-8, <see cref="T:byte[]"/> as is); then System.Text.Json.
/// </summary>
public static class OptimizedHybridCacheBuilderExtensions
{
    /// <summary>Registers a serializer instance for <typeparamref name="T"/>.</summary>
    public static IOptimizedHybridCacheBuilder AddSerializer<T>(this IOptimizedHybridCacheBuilder builder, IHybridCacheSerializer<T> serializer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(serializer);
        builder.Services.AddSingleton(serializer);
        return builder;
    }

    /// <summary>Registers a serializer type for <typeparamref name="T"/>, created by the container.</summary>
    public static IOptimizedHybridCacheBuilder AddSerializer<T, TImplementation>(this IOptimizedHybridCacheBuilder builder)
        where TImplementation : class, IHybridCacheSerializer<T>
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IHybridCacheSerializer<T>, TImplementation>();
        return builder;
    }

    /// <summary>Registers a serializer factory instance; factories added later are asked first.</summary>
    public static IOptimizedHybridCacheBuilder AddSerializerFactory(this IOptimizedHybridCacheBuilder builder, IHybridCacheSerializerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddSingleton(factory);
        return builder;
    }

    /// <summary>Registers a serializer factory type, created by the container; factories added later are asked first.</summary>
    public static IOptimizedHybridCacheBuilder AddSerializerFactory<TImplementation>(this IOptimizedHybridCacheBuilder builder)
        where TImplementation : class, IHybridCacheSerializerFactory
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IHybridCacheSerializerFactory, TImplementation>();
        return builder;
    }

    /// <summary>
    /// Uses the <see cref="StackExchange.Redis.IConnectionMultiplexer"/> registered in the container as the cache's
    /// L2 connection (for example the one Aspire's <c>AddRedisClient</c> registers, with its health check and tracing),
    /// instead of <see cref="OptimizedHybridCacheOptions.RedisConnectionString"/>. The container owns it.
    /// </summary>
    /// <param name="builder">The cache builder.</param>
    /// <param name="serviceKey">The key of a keyed registration (<c>AddKeyedRedisClient</c>); null for the unkeyed one.</param>
    public static IOptimizedHybridCacheBuilder UseConnectionMultiplexer(this IOptimizedHybridCacheBuilder builder, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<OptimizedHybridCacheOptions>(o => o.ConnectionMultiplexerFactory = serviceKey is null
            ? static sp => sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>()
            : sp => sp.GetRequiredKeyedService<StackExchange.Redis.IConnectionMultiplexer>(serviceKey));
        return builder;
    }
}
