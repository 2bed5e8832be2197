namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The seed's <c>_calculate_adaptive_ttl</c>: base TTL × data-type multiplier × access multiplier × size
/// multiplier × jitter, with the data type taken from the key's prefix, access counts from a bounded
/// <see cref="AccessFrequencySketch"/>, and the jitter from a hash of the key that every replica computes alike.
/// </summary>
/// <remarks>Thread-safe; configuration is copied at construction.</remarks>
internal sealed class AdaptiveTtlCalculator
{
    private readonly Dictionary<string, double>.AlternateLookup<ReadOnlySpan<char>> _multipliers;
    private readonly DataTypeClassifier _classifier;
    private readonly double _variationFactor;

    /// <summary>Creates a calculator whose data types are the multiplier table's names, as key prefixes (<c>product:</c> → <c>product</c>).</summary>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is out of range (see <see cref="AdaptiveTtlOptions.Validate"/>).</exception>
    public AdaptiveTtlCalculator(AdaptiveTtlOptions options)
        : this(options, DataTypeClassifier.FromNames(options?.DataTypeMultipliers.Keys ?? throw new ArgumentNullException(nameof(options))))
    {
    }

    /// <summary>
    /// Creates a calculator that classifies keys with the cache's own <see cref="DataTypeClassifier"/>, so the data
    /// type of a key is the same for TTL, compression, statistics and metrics.
    /// </summary>
    /// <param name="options">The settings; validated here.</param>
    /// <param name="dataTypes">The key-prefix classifier.</param>
    /// <exception cref="ArgumentException">A setting is out of range (see <see cref="AdaptiveTtlOptions.Validate"/>).</exception>
    public AdaptiveTtlCalculator(AdaptiveTtlOptions options, DataTypeClassifier dataTypes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataTypes);
        options.Validate();
        _multipliers = new Dictionary<string, double>(options.DataTypeMultipliers, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _classifier = dataTypes;
        _variationFactor = options.VariationFactor;
        Sketch = new AccessFrequencySketch(options.FrequencySketchWidth, options.FrequencySketchSampleSize);
    }

    /// <summary>The access-frequency sketch the access multiplier reads.</summary>
    public AccessFrequencySketch Sketch { get; }

    /// <summary>Every data type <see cref="ResolveDataType"/> can return (configured ones plus <c>other</c>): a bounded set, safe as a metric tag.</summary>
    public IReadOnlyList<string> DataTypes => _classifier.Names;

    /// <summary>Maps a key to its data type through its prefix (<c>product:42</c> → <c>product</c>), with the shared classifier.</summary>
    /// <param name="key">The cache key.</param>
    /// <returns>The configured data type for the key's prefix, or <see cref="AdaptiveTtlOptions.OtherDataType"/>; never allocates.</returns>
    public string ResolveDataType(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _classifier.Names[_classifier.Classify(key)];
    }

    /// <summary>Records one access to <paramref name="key"/> in the sketch.</summary>
    /// <param name="key">The cache key.</param>
    public void RecordAccess(string key) => Sketch.Increment(StableHash.Fnv1a64(key));

    /// <summary>Records one access to the key with stable hash <paramref name="keyHash"/> (when the caller already has it).</summary>
    /// <param name="keyHash">The key's <see cref="StableHash.Fnv1a64(string)"/>.</param>
    public void RecordAccess(ulong keyHash) => Sketch.Increment(keyHash);

    /// <summary>Computes the TTL for <paramref name="key"/>, resolving its data type from its prefix.</summary>
    /// <param name="key">The cache key.</param>
    /// <param name="baseTtl">The TTL asked for (the entry options' expiration); positive.</param>
    /// <param name="dataSize">The serialized value's size in bytes; 0 when unknown (size multiplier 1.0).</param>
    /// <returns>The adaptive TTL.</returns>
    public TimeSpan Calculate(string key, TimeSpan baseTtl, long dataSize) => Calculate(key, ResolveDataType(key), baseTtl, dataSize);

    /// <summary>Computes the TTL for <paramref name="key"/> of a known data type.</summary>
    /// <param name="key">The cache key (its access count and jitter hash are taken from it).</param>
    /// <param name="dataType">The key's data type.</param>
    /// <param name="baseTtl">The TTL asked for; positive.</param>
    /// <param name="dataSize">The serialized value's size in bytes; 0 when unknown.</param>
    /// <returns><c>baseTtl × type × access × size × jitter</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="baseTtl"/> is not positive or <paramref name="dataSize"/> is negative.</exception>
    public TimeSpan Calculate(string key, string dataType, TimeSpan baseTtl, long dataSize)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(dataType);
        if (baseTtl <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The base TTL must be positive; it is {baseTtl}.", nameof(baseTtl));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(dataSize);
        var hash = StableHash.Fnv1a64(key);
        var factor = GetTypeMultiplier(dataType)
            * GetAccessMultiplier(Sketch.Estimate(hash))
            * GetSizeMultiplier(dataSize)
            * GetJitter(hash, _variationFactor);
        return baseTtl * factor;
    }

    /// <summary>The data-type multiplier: the configured value, or 1.0 for a type not configured.</summary>
    /// <param name="dataType">The data type.</param>
    /// <returns>The multiplier.</returns>
    public double GetTypeMultiplier(string dataType) =>
        _multipliers.TryGetValue(dataType.AsSpan(), out var multiplier) ? multiplier : 1.0;

    /// <summary>The seed's access multiplier: <c>min(2, 1 + count / 100 × 0.5)</c>.</summary>
    /// <param name="accessCount">The key's (estimated) recent access count.</param>
    /// <returns>Between 1 and 2.</returns>
    public static double GetAccessMultiplier(int accessCount) => Math.Min(2.0, 1.0 + (Math.Max(0, accessCount) / 100.0 * 0.5));

    /// <summary>The seed's size multiplier: &lt;1 KiB 1.2, &lt;10 KiB 1.0, &lt;100 KiB 0.8, else 0.6; 0 (unknown) gives 1.0.</summary>
    /// <param name="dataSize">The value's size in bytes.</param>
    /// <returns>The multiplier.</returns>
    public static double GetSizeMultiplier(long dataSize) => dataSize switch
    {
        <= 0 => 1.0,
        < 1024 => 1.2,
        < 10 * 1024 => 1.0,
        < 100 * 1024 => 0.8,
        _ => 0.6,
    };

    /// <summary>The seed's jitter: <c>1 + ((h mod 1000) / 1000 − 0.5) × 2 × variationFactor</c>.</summary>
    /// <param name="keyHash">The key's stable hash <c>h</c>.</param>
    /// <param name="variationFactor">The variation factor.</param>
    /// <returns>Between <c>1 − variationFactor</c> and <c>1 + 0.998 × variationFactor</c>.</returns>
    public static double GetJitter(ulong keyHash, double variationFactor) =>
        1.0 + (((keyHash % 1000) / 1000.0) - 0.5) * 2.0 * variationFactor;
}
