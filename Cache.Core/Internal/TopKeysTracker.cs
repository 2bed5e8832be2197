namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The keys with the most traffic, by the Space-Saving algorithm (Metwally et al.): a fixed number of counters; an
/// untracked key takes over the smallest counter and inherits its count as its error bound. Memory is bounded by
/// the capacity whatever the key space.
/// </summary>
internal sealed class TopKeysTracker(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity;

    public void Record(string key, bool hit)
    {
        lock (_lock)
        {
            if (!_counters.TryGetValue(key, out var counter))
            {
                if (_counters.Count < Capacity)
                {
                    counter = new Counter();
                }
                else
                {
                    // replace the minimum; linear over a small fixed capacity, under the lock, off the hit path
                    var (minimumKey, minimum) = (string.Empty, (Counter?)null);
                    foreach (var (k, c) in _counters)
                    {
                        if (minimum is null || c.Count < minimum.Count)
                        {
                            (minimumKey, minimum) = (k, c);
                        }
                    }

                    _counters.Remove(minimumKey);
                    counter = new Counter { Count = minimum!.Count, Error = minimum.Count };
                }

                _counters[key] = counter;
            }

            counter.Count++;
            if (hit)
            {
                counter.Hits++;
            }
        }
    }

    public IReadOnlyList<KeyTrafficStats> Top(int count)
    {
        lock (_lock)
        {
            return _counters
                .OrderByDescending(pair => pair.Value.Count)
                .ThenBy(pair => pair.Key, StringComparer.Ordinal)
                .Take(count)
                .Select(pair => new KeyTrafficStats { Key = pair.Key, Requests = pair.Value.Count, Hits = pair.Value.Hits, ErrorBound = pair.Value.Error })
                .ToList();
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _counters.Clear();
        }
    }

    private sealed class Counter
    {
        public long Count;
        public long Hits;
        public long Error;
    }
}
