using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Finds the serializer of each type once: a registered <see cref="IHybridCacheSerializer{T}"/>, else the registered
/// factories (last added first), else the built-in ones. Bounded by the number of types used.
/// </summary>
internal sealed class SerializerResolver
{
    private readonly IServiceProvider _services;
    private readonly IHybridCacheSerializerFactory[] _factories;
    private readonly ConcurrentDictionary<Type, object> _serializers = new();

    public SerializerResolver(IServiceProvider services)
    {
        _services = services;
        var factories = services.GetServices<IHybridCacheSerializerFactory>().ToArray();
        Array.Reverse(factories);
        _factories = [.. factories, new InbuiltSerializerFactory(services)];
    }

    public IHybridCacheSerializer<T> Get<T>()
    {
        return _serializers.TryGetValue(typeof(T), out var found) ? Unsafe.As<IHybridCacheSerializer<T>>(found) : Resolve();

        IHybridCacheSerializer<T> Resolve()
        {
            var serializer = _services.GetService<IHybridCacheSerializer<T>>();
            if (serializer is null)
            {
                foreach (var factory in _factories)
                {
                    if (factory.TryCreateSerializer<T>(out var created))
                    {
                        serializer = created;
                        break;
                    }
                }
            }

            // the inbuilt factory always answers, so serializer is set here
            return (IHybridCacheSerializer<T>)_serializers.GetOrAdd(typeof(T), serializer!);
        }
    }
}
