namespace OptimizedCache.Benchmarks.Verification;

/// <summary>
/// Latencies in a fixed set of log-spaced buckets (1 µs to ~100 s, 64 buckets per decade, so a percentile is within
/// about 3.7% of the true value): bounded memory whatever the request count, mergeable across workers and intervals.
/// Not thread-safe; each worker keeps its own and they are merged.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int PerDecade = 64;
    private const int Decades = 8;
    private const double MinMicroseconds = 1;
    private readonly long[] _counts = new long[(PerDecade * Decades) + 1];

    /// <summary>Recorded samples.</summary>
    public long Count { get; private set; }

    /// <summary>Largest sample in milliseconds.</summary>
    public double MaxMs { get; private set; }

    /// <summary>Sum of samples in milliseconds.</summary>
    public double SumMs { get; private set; }

    /// <summary>Records one latency.</summary>
    public void Record(TimeSpan latency)
    {
        var us = Math.Max(MinMicroseconds, latency.TotalMicroseconds);
        var index = (int)Math.Min(_counts.Length - 1, Math.Floor(Math.Log10(us / MinMicroseconds) * PerDecade));
        _counts[index]++;
        Count++;
        SumMs += latency.TotalMilliseconds;
        MaxMs = Math.Max(MaxMs, latency.TotalMilliseconds);
    }

    /// <summary>Adds another histogram's samples.</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        SumMs += other.SumMs;
        MaxMs = Math.Max(MaxMs, other.MaxMs);
    }

    /// <summary>The latency in milliseconds below which <paramref name="percent"/>% of samples lie (bucket midpoint); NaN when empty.</summary>
    public double PercentileMs(double percent)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var lower = MinMicroseconds * Math.Pow(10, (double)i / PerDecade);
                var upper = MinMicroseconds * Math.Pow(10, (double)(i + 1) / PerDecade);
                return Math.Min(MaxMs, Math.Sqrt(lower * upper) / 1000);
            }
        }

        return MaxMs;
    }

    /// <summary>Mean in milliseconds; NaN when empty.</summary>
    public double MeanMs => Count == 0 ? double.NaN : SumMs / Count;
}

/// <summary>Small statistics the tools share.</summary>
internal static class Statistics
{
    /// <summary>The nearest-rank percentile of <paramref name="sorted"/> (ascending); NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Least-squares line through (x, y): slope, intercept and R² (1 when y is constant).</summary>
    public static (double Slope, double Intercept, double RSquared) LinearRegression(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count || x.Count < 2)
        {
            throw new ArgumentException($"a regression needs two or more (x, y) pairs of equal count; got {x.Count} and {y.Count}", nameof(x));
        }

        double mx = x.Average(), my = y.Average(), sxx = 0, sxy = 0, syy = 0;
        for (var i = 0; i < x.Count; i++)
        {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
            syy += (y[i] - my) * (y[i] - my);
        }

        if (sxx == 0)
        {
            throw new ArgumentException("a regression needs at least two distinct x values", nameof(x));
        }

        var slope = sxy / sxx;
        var r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return (slope, my - (slope * mx), r2);
    }

    /// <summary>1 − after / before: the reduction from before to after (0.5 = halved); NaN when before is 0.</summary>
    public static double Reduction(double before, double after) =>
        before > 0 && double.IsFinite(before) && double.IsFinite(after) ? 1 - (after / before) : double.NaN;
}

/// <summary>Draws ranks 1..N from a Zipf distribution with exponent s (rank k has weight 1/k^s) by inverse CDF.</summary>
internal sealed class ZipfSampler
{
    private readonly double[] _cdf;

    /// <summary>Builds the CDF over <paramref name="n"/> ranks.</summary>
    public ZipfSampler(int n, double s)
    {
        if (n < 1 || n > 10_000_000)
        {
            throw new ArgumentException($"the Zipf key space must hold 1 to 10,000,000 keys; got {n}", nameof(n));
        }

        if (!double.IsFinite(s) || s < 0 || s > 10)
        {
            throw new ArgumentException($"the Zipf exponent must be between 0 and 10; got {s}", nameof(s));
        }

        _cdf = new double[n];
        double total = 0;
        for (var k = 1; k <= n; k++)
        {
            total += 1 / Math.Pow(k, s);
            _cdf[k - 1] = total;
        }

        for (var k = 0; k < n; k++)
        {
            _cdf[k] /= total;
        }
    }

    /// <summary>Number of ranks.</summary>
    public int Count => _cdf.Length;

    /// <summary>A rank from 1 to <see cref="Count"/>.</summary>
    public int Next(Random random)
    {
        var u = random.NextDouble();
        var index = Array.BinarySearch(_cdf, u);
        return Math.Min(_cdf.Length, (index >= 0 ? index : ~index) + 1);
    }
}
