namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The keys with the most traffic, by the Space-Saving algorithm (Metwally et al.): a fixed number of counters; an
/// untracked key takes over the smallest counter and inherits its count as its error bound. The counters form a
/// binary min-heap, so recording is O(log capacity) and allocates nothing once full, whatever the key space.
/// </summary>
internal sealed class TopKeysTracker
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _slots; // key → heap position
    private readonly string[] _keys;
    private readonly long[] _counts;
    private readonly long[] _hits;
    private readonly long[] _errors;
    private int _size;

    public TopKeysTracker(int capacity)
    {
        Capacity = capacity;
        _slots = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _keys = new string[capacity];
        _counts = new long[capacity];
        _hits = new long[capacity];
        _errors = new long[capacity];
    }

    public int Capacity { get; }

    public void Record(string key, bool hit) => Record(key, hit, 1);

    /// <summary>Records <paramref name="weight"/> lookups at once (sampled hits stand for several).</summary>
    public void Record(string key, bool hit, int weight)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                if (_size < Capacity)
                {
                    slot = _size++;
                    (_counts[slot], _errors[slot]) = (0, 0);
                }
                else
                {
                    // take over the minimum (the heap's root), inheriting its count as the error bound
                    slot = 0;
                    _slots.Remove(_keys[0]);
                    _errors[0] = _counts[0];
                }

                _keys[slot] = key;
                _hits[slot] = 0;
                _slots[key] = slot;
                SiftUp(slot);
                slot = _slots[key];
            }

            _counts[slot] += weight;
            if (hit)
            {
                _hits[slot] += weight;
            }

            SiftDown(slot);
        }
    }

    public IReadOnlyList<KeyTrafficStats> Top(int count)
    {
        lock (_lock)
        {
            return Enumerable.Range(0, _size)
                .OrderByDescending(i => _counts[i])
                .ThenBy(i => _keys[i], StringComparer.Ordinal)
                .Take(count)
                .Select(i => new KeyTrafficStats { Key = _keys[i], Requests = _counts[i], Hits = _hits[i], ErrorBound = _errors[i] })
                .ToList();
        }
    }

    private void SiftUp(int slot)
    {
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (_counts[parent] <= _counts[slot])
            {
                return;
            }

            Swap(slot, parent);
            slot = parent;
        }
    }

    private void SiftDown(int slot)
    {
        while (true)
        {
            var left = (2 * slot) + 1;
            if (left >= _size)
            {
                return;
            }

            var smallest = left + 1 < _size && _counts[left + 1] < _counts[left] ? left + 1 : left;
            if (_counts[slot] <= _counts[smallest])
            {
                return;
            }

            Swap(slot, smallest);
            slot = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_keys[a], _keys[b]) = (_keys[b], _keys[a]);
        (_counts[a], _counts[b]) = (_counts[b], _counts[a]);
        (_hits[a], _hits[b]) = (_hits[b], _hits[a]);
        (_errors[a], _errors[b]) = (_errors[b], _errors[a]);
        _slots[_keys[a]] = a;
        _slots[_keys[b]] = b;
    }
}
