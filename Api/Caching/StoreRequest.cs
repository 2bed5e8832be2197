namespace OptimizedCache.Api.Caching;

/// <summary>
/// The cache decision for one request, made once by <see cref="CacheFlagFilter"/> (the percentage filter
/// is random per evaluation, so it must not be asked twice) and the result the handler produced.
/// </summary>
public sealed class StoreRequest
{
    /// <summary>The endpoint group.</summary>
    public CacheGroup Group { get; internal set; }

    /// <summary>Whether the flag put this request on the cached path.</summary>
    public bool UseCache { get; internal set; }

    /// <summary>Whether writes store their result in the cache (writes on the cached path only).</summary>
    public bool WriteThrough { get; internal set; }

    /// <summary>Whether an origin call was made for this request on the cached path.</summary>
    internal bool OriginCalled { get; set; }

    /// <summary>Whether a cache failure sent this request to the origin directly.</summary>
    internal bool FellBack { get; set; }

    /// <summary>The outcome for <c>X-Cache</c> and the metrics.</summary>
    public CacheResult Result => !UseCache || FellBack ? CacheResult.Bypass : OriginCalled ? CacheResult.Miss : CacheResult.Hit;
}
