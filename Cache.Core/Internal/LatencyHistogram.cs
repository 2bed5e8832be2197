namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// A fixed-bucket latency histogram (the metric's boundaries, finer below 50 µs) for the stats API's p50 and p95:
/// bounded memory, lock-free recording.
/// </summary>
internal sealed class LatencyHistogram
{
    private static readonly double[] Bounds =
        [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, .. OptimizedCacheMetrics.LatencyBuckets, double.PositiveInfinity];

    // Striped by thread, as StripedCounters are: concurrent callers timing the same operation land in the same
    // bucket, and one shared cell would make every core fight over its cache line.
    private static readonly int Stripes = Striping.Count(perProcessor: 2);
    private static readonly int StripeLength = Bounds.Length + 8; // + 64 bytes so that neighbouring stripes never share a line

    private readonly long[] _counts = new long[Stripes * StripeLength];

    public void Record(double seconds)
    {
        var index = Array.BinarySearch(Bounds, seconds);
        var stripe = Environment.CurrentManagedThreadId & (Stripes - 1);
        Interlocked.Increment(ref _counts[(stripe * StripeLength) + (index < 0 ? ~index : index)]);
    }

    public OperationLatency Snapshot()
    {
        var counts = new long[Bounds.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            for (var stripe = 0; stripe < Stripes; stripe++)
            {
                counts[i] += Volatile.Read(ref _counts[(stripe * StripeLength) + i]);
            }

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
