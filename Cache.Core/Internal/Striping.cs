using System.Numerics;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>How many stripes per-thread striped state gets (indexed by the managed thread id masked to the count).</summary>
internal static class Striping
{
    /// <summary><paramref name="perProcessor"/> stripes for each processor, rounded up to a power of two.</summary>
    public static int Count(int perProcessor) => (int)BitOperations.RoundUpToPowerOf2((uint)(Math.Max(1, Environment.ProcessorCount) * perProcessor));
}
