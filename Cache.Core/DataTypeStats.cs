namespace OptimizedCache.Cache.Core;

/// <summary>Traffic of one data type.</summary>
public sealed record DataTypeStats
{
    /// <summary>Lookups answered by a cache tier.</summary>
    public long Hits { get; init; }

    /// <summary>Lookups that reached the factory (or found nothing).</summary>
    public long Misses { get; init; }

    /// <summary>Factory (origin) calls, successful or not.</summary>
    public long FactoryCalls { get; init; }

    /// <summary><see cref="Hits"/> over hits and misses; 0 without traffic.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
