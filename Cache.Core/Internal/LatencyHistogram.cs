namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// A fixed-bucket latency histogram (the metric's boundaries, finer below 50 µs) for the stats API's p50 and p95:
/// bounded memory, lock-free recording.
/// </summary>
internal sealed class LatencyHistogram
{
    private static readonly double[] Bounds =
        [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, .. OptimizedCacheMetrics.LatencyBuckets, double.PositiveInfinity];

    private readonly long[] _counts = new long[Bounds.Length];

    public void Record(double seconds)
    {
        var index = Array.BinarySearch(Bounds, seconds);
        Interlocked.Increment(ref _counts[index < 0 ? ~index : index]);
    }

    public OperationLatency Snapshot()
    {
        var counts = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _counts[i]);
            total += counts[i];
        }

        return new OperationLatency { Count = total, P50 = Percentile(counts, total, 0.50), P95 = Percentile(counts, total, 0.95) };
    }

    private static TimeSpan Percentile(long[] counts, long total, double quantile)
    {
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(total * quantile);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                var bound = double.IsPositiveInfinity(Bounds[i]) ? Bounds[i - 1] : Bounds[i];
                return TimeSpan.FromSeconds(bound);
            }
        }

        return TimeSpan.FromSeconds(Bounds[^2]);
    }
}
