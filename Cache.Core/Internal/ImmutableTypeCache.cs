using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Whether values of <typeparamref name="T"/> may be handed out as the same instance on every L1 hit (as the default
/// HybridCache decides): <see cref="string"/>, value types without references, and sealed classes or structs marked
/// <c>[ImmutableObject(true)]</c>. Everything else is mutable: each hit deserializes a fresh copy.
/// </summary>
internal static class ImmutableTypeCache<T>
{
    public static readonly bool IsImmutable = !RuntimeHelpers.IsReferenceOrContainsReferences<T>() || ImmutableTypeCache.IsImmutable(typeof(T));
}

/// <summary>The non-generic part of <see cref="ImmutableTypeCache{T}"/>.</summary>
internal static class ImmutableTypeCache
{
    public static bool IsImmutable(Type type)
    {
        if (type == typeof(string))
        {
            return true;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsValueType || (type.IsClass && type.IsSealed))
        {
            // the attribute is the author's promise; unsealed types could be subclassed into anything
            return type.GetCustomAttribute<ImmutableObjectAttribute>() is { Immutable: true };
        }

        return false;
    }
}
