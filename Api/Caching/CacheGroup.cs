namespace OptimizedCache.Api.Caching;

/// <summary>Endpoint groups by risk; each has its own feature flag.</summary>
public enum CacheGroup
{
    /// <summary>Store health, metrics summary, logs.</summary>
    LowRisk,

    /// <summary>Products, catalog, customers, orders, recommendations.</summary>
    Reads,

    /// <summary>Inventory.</summary>
    VolatileReads,

    /// <summary>Product updates, inventory adjustments, new orders.</summary>
    Writes,
}

/// <summary>What the cache did for a request (the <c>X-Cache</c> header).</summary>
public enum CacheResult
{
    /// <summary>Answered from the cache: no origin call in this request.</summary>
    Hit,

    /// <summary>Cached path, but the origin was called in this request.</summary>
    Miss,

    /// <summary>The flag left this request out: origin only.</summary>
    Bypass,
}

/// <summary>Feature names and tag values.</summary>
public static class CacheFeatures
{
    /// <summary>Caching for the low-risk group.</summary>
    public const string LowRisk = "Cache.LowRisk";

    /// <summary>Caching for reads.</summary>
    public const string Reads = "Cache.Reads";

    /// <summary>Caching for volatile reads.</summary>
    public const string VolatileReads = "Cache.VolatileReads";

    /// <summary>Caching for writes.</summary>
    public const string Writes = "Cache.Writes";

    /// <summary>Writes store their result in the cache instead of only invalidating.</summary>
    public const string WriteThrough = "Cache.WriteThrough";

    /// <summary>Every feature the rollout plans may set.</summary>
    public static readonly IReadOnlyList<string> All = [LowRisk, Reads, VolatileReads, Writes, WriteThrough];

    /// <summary>The feature that decides a group.</summary>
    public static string FeatureFor(this CacheGroup group) => group switch
    {
        CacheGroup.LowRisk => LowRisk,
        CacheGroup.Reads => Reads,
        CacheGroup.VolatileReads => VolatileReads,
        _ => Writes,
    };

    /// <summary>The metric tag value of a group.</summary>
    public static string TagValue(this CacheGroup group) => group switch
    {
        CacheGroup.LowRisk => "low_risk",
        CacheGroup.Reads => "reads",
        CacheGroup.VolatileReads => "volatile_reads",
        _ => "writes",
    };

    /// <summary>The metric tag value of a result.</summary>
    public static string TagValue(this CacheResult result) => result switch
    {
        CacheResult.Hit => "hit",
        CacheResult.Miss => "miss",
        _ => "bypass",
    };

    /// <summary>The <c>X-Cache</c> header value.</summary>
    public static string HeaderValue(this CacheResult result) => result switch
    {
        CacheResult.Hit => "HIT",
        CacheResult.Miss => "MISS",
        _ => "BYPASS",
    };
}
