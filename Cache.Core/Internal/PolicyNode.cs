namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Which of the W-TinyLFU queues a node sits in.</summary>
internal enum PolicyQueue : byte
{
    /// <summary>Not (or no longer) tracked by the policy.</summary>
    None = 0,

    /// <summary>The admission window: a small LRU that absorbs bursts of new keys.</summary>
    Window,

    /// <summary>Main space, entries admitted but not yet re-accessed.</summary>
    Probation,

    /// <summary>Main space, entries accessed again while in probation.</summary>
    Protected,
}

/// <summary>
/// What the eviction policy needs of an entry: its weight, a hash for the frequency sketch and the links of the
/// intrusive queue it sits in. The cache's entries derive from it, and so do the simulator's, so the same policy
/// runs in both without the rest of the cache.
/// </summary>
internal class PolicyNode
{
    /// <summary>Creates a node.</summary>
    public PolicyNode(int hash, long weight)
    {
        Hash = hash;
        Weight = weight;
    }

    /// <summary>Hash fed to the frequency sketch (any well-mixed 32-bit value; need not be stable across runs).</summary>
    public int Hash { get; }

    /// <summary>Estimated size in bytes (or 1 for unit-weight simulations).</summary>
    public long Weight { get; internal set; }

    /// <summary>Queue the node is in; <see cref="PolicyQueue.None"/> once removed or evicted.</summary>
    public PolicyQueue Queue { get; internal set; }

    internal PolicyNode? Previous;
    internal PolicyNode? Next;
}
