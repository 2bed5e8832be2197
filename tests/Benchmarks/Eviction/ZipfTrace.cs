namespace OptimizedCache.Benchmarks.Eviction;

/// <summary>A request trace whose key popularity follows Zipf(s) over a fixed key space (rank r has weight 1/r^s).</summary>
internal static class ZipfTrace
{
    public static int[] Generate(int requests, int keys, double skew, int seed)
    {
        var cdf = new double[keys];
        double sum = 0;
        for (var rank = 0; rank < keys; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, skew);
            cdf[rank] = sum;
        }

        // ranks are shuffled onto key ids so that popularity is not correlated with the id (or its hash)
        var random = new Random(seed);
        var ids = Enumerable.Range(0, keys).ToArray();
        random.Shuffle(ids);
        var trace = new int[requests];
        for (var i = 0; i < requests; i++)
        {
            var u = random.NextDouble() * sum;
            var rank = Array.BinarySearch(cdf, u);
            trace[i] = ids[rank < 0 ? Math.Min(~rank, keys - 1) : rank];
        }

        return trace;
    }
}
