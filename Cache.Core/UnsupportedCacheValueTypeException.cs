namespace OptimizedCache.Cache.Core;

/// <summary>
/// A value type the configured serializer cannot store and read back unchanged; thrown at the first write of such a
/// value rather than caching a copy that comes back with default members.
/// </summary>
public sealed class UnsupportedCacheValueTypeException : NotSupportedException
{
    /// <summary>Creates the exception for <paramref name="valueType"/>, saying what would be lost.</summary>
    public UnsupportedCacheValueTypeException(Type valueType, string problem)
        : base($"Values of type {valueType} cannot be cached with System.Text.Json: {problem}. Make that state public and settable "
            + $"(or mark it [JsonInclude]), or register an IHybridCacheSerializer<{valueType.Name}> for it.")
    {
        ValueType = valueType;
    }

    /// <summary>The type that cannot be round-tripped.</summary>
    public Type ValueType { get; }
}
