namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Maps a key to its data type by the configured prefixes (longest first, ordinal, as keys are compared). Index 0 is
/// <c>other</c>; the set is fixed at start-up, so every tag value made from it is bounded. The one classifier of the
/// cache: statistics, metrics, the adaptive TTL (<see cref="AdaptiveTtlCalculator"/>) and the compression policy's
/// per-type state all see the same data type for a key.
/// </summary>
internal sealed class DataTypeClassifier
{
    private readonly (string Prefix, int Index)[] _prefixes;

    public DataTypeClassifier(IDictionary<string, string> prefixes)
    {
        var names = new List<string> { OptimizedCacheMetrics.OtherDataType };
        var list = new List<(string, int)>();
        foreach (var (prefix, name) in prefixes.OrderByDescending(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            var index = names.IndexOf(name);
            if (index < 0)
            {
                index = names.Count;
                names.Add(name);
            }

            list.Add((prefix, index));
        }

        _prefixes = [.. list];
        Names = [.. names];
    }

    /// <summary>A classifier whose prefixes are the names followed by <c>:</c> (<c>product</c> classifies <c>product:42</c>).</summary>
    public static DataTypeClassifier FromNames(IEnumerable<string> names) =>
        new(names.Distinct(StringComparer.Ordinal).ToDictionary(n => n + ":", n => n, StringComparer.Ordinal));

    /// <summary>Data type names by index; index 0 is <c>other</c>.</summary>
    public string[] Names { get; }

    public int Classify(string key)
    {
        foreach (var (prefix, index) in _prefixes)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return index;
            }
        }

        return 0;
    }
}
