namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Settings of <see cref="AdaptiveCompressionPolicy"/>.</summary>
internal sealed class CompressionPolicyOptions
{
    /// <summary>Values smaller than this are stored raw: compression would save too little to pay for itself.</summary>
    /// <value>1,024 bytes by default.</value>
    public int MinimumSizeBytes { get; set; } = 1024;

    /// <summary>Values of at least this size use the strong codec (Zstandard, else Brotli); smaller ones the fast codec.</summary>
    /// <value>65,536 bytes by default.</value>
    public int LargeSizeBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// A data type whose smoothed ratio (compressed / uncompressed) is above this is treated as incompressible
    /// and stored raw, except for every <see cref="ResampleInterval"/>-th value.
    /// </summary>
    /// <value>0.9 by default.</value>
    public double IncompressibleRatio { get; set; } = 0.9;

    /// <summary>Measured values of a data type needed before it may be judged incompressible.</summary>
    /// <value>3 by default.</value>
    public int MinimumSamples { get; set; } = 3;

    /// <summary>While a data type is judged incompressible, every N-th value is compressed anyway to re-measure it.</summary>
    /// <value>16 by default.</value>
    public int ResampleInterval { get; set; } = 16;

    /// <summary>The weight of the newest ratio in the smoothed ratio (exponentially weighted moving average).</summary>
    /// <value>0.3 by default.</value>
    public double RatioSmoothing { get; set; } = 0.3;

    /// <summary>The most data types tracked separately; the rest share one <c>other</c> bucket.</summary>
    /// <value>64 by default.</value>
    public int MaxTrackedDataTypes { get; set; } = 64;

    /// <summary>At or above this CPU load (0–1) the policy prefers the cheapest codec, or none.</summary>
    /// <value>0.8 by default.</value>
    public double HighCpuLoad { get; set; } = 0.8;

    /// <summary>Checks every setting and throws naming the first bad one.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        Check(MinimumSizeBytes >= 0, nameof(MinimumSizeBytes), MinimumSizeBytes, "must not be negative");
        Check(LargeSizeBytes >= MinimumSizeBytes, nameof(LargeSizeBytes), LargeSizeBytes, $"must be at least MinimumSizeBytes ({MinimumSizeBytes})");
        Check(IncompressibleRatio is > 0 and <= 1, nameof(IncompressibleRatio), IncompressibleRatio, "must be in (0, 1]");
        Check(MinimumSamples >= 1, nameof(MinimumSamples), MinimumSamples, "must be at least 1");
        Check(ResampleInterval >= 1, nameof(ResampleInterval), ResampleInterval, "must be at least 1");
        Check(RatioSmoothing is > 0 and <= 1, nameof(RatioSmoothing), RatioSmoothing, "must be in (0, 1]");
        Check(MaxTrackedDataTypes is >= 1 and <= 4096, nameof(MaxTrackedDataTypes), MaxTrackedDataTypes, "must be between 1 and 4096");
        Check(HighCpuLoad is > 0 and <= 1, nameof(HighCpuLoad), HighCpuLoad, "must be in (0, 1]");
    }

    private static void Check(bool valid, string name, object value, string rule)
    {
        if (!valid)
        {
            throw new ArgumentException($"{name} {rule}; it is {value}.", name);
        }
    }
}
