namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Maps a key to its data type by the configured prefixes (longest first). Index 0 is <c>other</c>; the set is
/// fixed at start-up, so every tag value made from it is bounded.
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
