namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Reports how busy the CPU is, for policies that trade work for bytes (compression).</summary>
internal interface ICpuLoadSource
{
    /// <summary>The recent CPU load as a fraction of the machine's capacity, between 0 and 1. Cheap enough to call per operation.</summary>
    /// <returns>The load.</returns>
    double GetLoad();
}
