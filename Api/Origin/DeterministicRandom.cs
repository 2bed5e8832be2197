namespace OptimizedCache.Api.Origin;

/// <summary>
/// SplitMix64: a tiny PRNG whose sequence depends only on its seed, on every runtime and platform
/// (System.Random's seeded sequence is an implementation detail), so the generated store is the same
/// on every replica and in every run.
/// </summary>
internal struct DeterministicRandom
{
    private ulong _state;

    public DeterministicRandom(ulong seed, ulong stream, long id)
    {
        _state = seed ^ (stream * 0x9E3779B97F4A7C15UL) ^ ((ulong)id * 0xBF58476D1CE4E5B9UL);
        NextUInt64();
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [min, max).</summary>
    public int Next(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min));

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];
}
