namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Per-data-type counters kept by <see cref="StripedCounters"/>.</summary>
internal enum CounterKind
{
    L1Hit,
    L1Miss,
    L2Hit,
    L2Miss,
    FactorySuccess,
    FactoryError,
    StaleServed,
}
