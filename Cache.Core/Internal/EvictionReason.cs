namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Why an entry left L1 (the <c>reason</c> tag of <c>optimizedcache.evictions</c>).</summary>
internal enum EvictionReason
{
    /// <summary>The byte budget was full and the policy chose this entry.</summary>
    Capacity,

    /// <summary>Expired (past its stale window) or invalidated by a tag, found by a read or the sweep.</summary>
    Expired,

    /// <summary>The budget shrank because the process is short of memory.</summary>
    MemoryPressure,

    /// <summary>Removed or replaced through the API.</summary>
    Removed,
}
