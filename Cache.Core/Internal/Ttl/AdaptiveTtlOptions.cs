using System.Text;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>Settings of <see cref="AdaptiveTtlCalculator"/>: data types, their multipliers, jitter and the access sketch.</summary>
internal sealed class AdaptiveTtlOptions
{
    /// <summary>The data type of keys whose prefix names no configured data type.</summary>
    public const string OtherDataType = OptimizedCacheMetrics.OtherDataType;

    /// <summary>The most distinct data types that may be configured (they become metric tags and policy state).</summary>
    public const int MaxDataTypes = 64;

    /// <summary>TTL multiplier per data type (names compared ignoring case); a type not listed gets 1.0.</summary>
    /// <value>Defaults to the seed's <c>product</c> 1.5, <c>inventory</c> 0.5, <c>customer</c> 2.0.</value>
    public Dictionary<string, double> DataTypeMultipliers { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["product"] = 1.5,
        ["inventory"] = 0.5,
        ["customer"] = 2.0,
    };

    /// <summary>The seed's <c>ttl_variation_factor</c>: the jitter spreads TTLs within ± this fraction.</summary>
    /// <value>0.1 by default (±10%); between 0 (no jitter) and 0.5.</value>
    public double VariationFactor { get; set; } = 0.1;

    /// <summary>Counters per row of the access-frequency sketch (memory = 4 × width × 2 bytes).</summary>
    /// <value>16,384 by default (128 KiB).</value>
    public int FrequencySketchWidth { get; set; } = 16_384;

    /// <summary>Recorded accesses between two halvings of the sketch's counters; 0 means 10 × width.</summary>
    /// <value>0 by default.</value>
    public int FrequencySketchSampleSize { get; set; }

    /// <summary>Checks every setting and throws naming the first bad one.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (DataTypeMultipliers is null)
        {
            throw new ArgumentException("DataTypeMultipliers must not be null.", nameof(DataTypeMultipliers));
        }

        foreach (var (dataType, multiplier) in DataTypeMultipliers)
        {
            ValidateDataTypeName(dataType, nameof(DataTypeMultipliers));
            if (!double.IsFinite(multiplier) || multiplier <= 0)
            {
                throw new ArgumentException($"DataTypeMultipliers['{dataType}'] must be a positive finite number; it is {multiplier}.", nameof(DataTypeMultipliers));
            }
        }

        if (DataTypeMultipliers.Count > MaxDataTypes)
        {
            throw new ArgumentException($"At most {MaxDataTypes} data types may be configured; there are {DataTypeMultipliers.Count}.", nameof(DataTypeMultipliers));
        }

        if (!double.IsFinite(VariationFactor) || VariationFactor is < 0 or > 0.5)
        {
            throw new ArgumentException($"VariationFactor must be between 0 and 0.5; it is {VariationFactor}.", nameof(VariationFactor));
        }

        if (FrequencySketchWidth is < 1 or > 1 << 24)
        {
            throw new ArgumentException($"FrequencySketchWidth must be between 1 and {1 << 24}; it is {FrequencySketchWidth}.", nameof(FrequencySketchWidth));
        }

        if (FrequencySketchSampleSize < 0)
        {
            throw new ArgumentException($"FrequencySketchSampleSize must not be negative; it is {FrequencySketchSampleSize}.", nameof(FrequencySketchSampleSize));
        }
    }

    private static void ValidateDataTypeName(string dataType, string setting)
    {
        if (string.IsNullOrWhiteSpace(dataType) || Encoding.UTF8.GetByteCount(dataType) > CacheValue.MaxDataTypeBytes)
        {
            throw new ArgumentException($"{setting} has a data type that is empty or longer than {CacheValue.MaxDataTypeBytes} UTF-8 bytes: '{dataType}'.", setting);
        }
    }
}
