namespace OptimizedCache.Cache.Core;

/// <summary>Memory held by L1 against its budget (<see cref="OptimizedHybridCache.GetMemoryUsage"/>).</summary>
public sealed record CacheMemoryUsage
{
    /// <summary>Estimated bytes held by L1 entries (serialized size or estimate, plus per-entry overhead).</summary>
    public long UsedBytes { get; init; }

    /// <summary>The budget in force now (smaller than <see cref="ConfiguredBudgetBytes"/> under memory pressure).</summary>
    public long BudgetBytes { get; init; }

    /// <summary>The budget without memory pressure: fixed, or a fraction of the memory available to the process.</summary>
    public long ConfiguredBudgetBytes { get; init; }

    /// <summary>The number of L1 entries (expired ones kept for fail-safe included).</summary>
    public int Entries { get; init; }

    /// <summary>Whether the process is under memory pressure and the budget shrunk.</summary>
    public bool UnderMemoryPressure { get; init; }

    /// <summary>The memory available to the process as the GC sees it (container limits included).</summary>
    public long TotalAvailableMemoryBytes { get; init; }
}
