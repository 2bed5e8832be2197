namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The keys with the most traffic, by the Space-Saving algorithm (Metwally et al.): a fixed number of counters; an
/// untracked key takes over the smallest counter and inherits its count as its error bound. The counters form a
/// binary min-heap, so recording is O(log capacity) and allocates nothing once full, whatever the key space.
/// </summary>
internal sealed class TopKeysTracker
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _slots; // key → slot (a slot never moves; the heap orders slot numbers)
    private readonly string[] _keys;
    private readonly long[] _counts;
    private readonly long[] _hits;
    private readonly long[] _errors;
    private readonly int[] _heap; // heap position → slot
    private readonly int[] _positions; // slot → heap position
    private int _size;

    public TopKeysTracker(int capacity)
    {
        Capacity = capacity;
        _slots = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _keys = new string[capacity];
        _counts = new long[capacity];
        _hits = new long[capacity];
        _errors = new long[capacity];
        _heap = new int[capacity];
        _positions = new int[capacity];
    }

    public int Capacity { get; }

    public void Record(string key, bool hit) => Record(key, hit, 1);

    /// <summary>Records <paramref name="weight"/> lookups at once (sampled hits stand for several).</summary>
    /// <remarks>
    /// One dictionary lookup for a tracked key; sifting moves slot numbers in the heap arrays only, so a record costs
    /// no further hashing however far the counter moves.
    /// </remarks>
    public void Record(string key, bool hit, int weight)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                int position;
                if (_size < Capacity)
                {
                    slot = _size;
                    position = _size++;
                    _heap[position] = slot;
                    _positions[slot] = position;
                    (_counts[slot], _errors[slot]) = (0, 0);
                }
                else
                {
                    // take over the minimum (the heap's root), inheriting its count as the error bound
                    position = 0;
                    slot = _heap[0];
                    _slots.Remove(_keys[slot]);
                    _errors[slot] = _counts[slot];
                }

                _keys[slot] = key;
                _hits[slot] = 0;
                _slots.Add(key, slot);
                SiftUp(position);
            }

            _counts[slot] += weight;
            if (hit)
            {
                _hits[slot] += weight;
            }

            SiftDown(_positions[slot]);
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

    private void SiftUp(int position)
    {
        while (position > 0)
        {
            var parent = (position - 1) / 2;
            if (_counts[_heap[parent]] <= _counts[_heap[position]])
            {
                return;
            }

            Swap(position, parent);
            position = parent;
        }
    }

    private void SiftDown(int position)
    {
        while (true)
        {
            var left = (2 * position) + 1;
            if (left >= _size)
            {
                return;
            }

            var smallest = left + 1 < _size && _counts[_heap[left + 1]] < _counts[_heap[left]] ? left + 1 : left;
            if (_counts[_heap[position]] <= _counts[_heap[smallest]])
            {
                return;
            }

            Swap(position, smallest);
            position = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_heap[a], _heap[b]) = (_heap[b], _heap[a]);
        _positions[_heap[a]] = a;
        _positions[_heap[b]] = b;
    }
}
