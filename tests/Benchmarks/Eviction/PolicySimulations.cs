using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Benchmarks.Eviction;

/// <summary>Replays a trace through one policy at one capacity (unit weights) and returns the hit ratio.</summary>
internal static class PolicySimulations
{
    /// <summary>The cache's own L1 policy (<see cref="WTinyLfuPolicy"/>), driven exactly as <c>L1Store</c> drives it.</summary>
    public static double WTinyLfu(int[] trace, int capacity)
    {
        var policy = new WTinyLfuPolicy(capacity, capacity);
        var nodes = new Dictionary<int, KeyNode>(capacity * 2);
        var hits = 0L;
        Action<PolicyNode> evicted = node => nodes.Remove(((KeyNode)node).Key);
        foreach (var key in trace)
        {
            if (nodes.TryGetValue(key, out var node))
            {
                hits++;
                policy.OnAccess(node);
                continue;
            }

            node = new KeyNode(key);
            nodes[key] = node;
            policy.OnAdd(node, evicted);
        }

        return (double)hits / trace.Length;
    }

    /// <summary>Plain LRU over intrusive array links.</summary>
    public static double Lru(int[] trace, int capacity)
    {
        var slotOf = new Dictionary<int, int>(capacity * 2);
        var keys = new int[capacity];
        var prev = new int[capacity];
        var next = new int[capacity];
        int head = -1, tail = -1, used = 0;
        var hits = 0L;

        void Unlink(int s)
        {
            if (prev[s] >= 0) { next[prev[s]] = next[s]; } else { head = next[s]; }
            if (next[s] >= 0) { prev[next[s]] = prev[s]; } else { tail = prev[s]; }
        }

        void PushTail(int s)
        {
            prev[s] = tail;
            next[s] = -1;
            if (tail >= 0) { next[tail] = s; } else { head = s; }
            tail = s;
        }

        foreach (var key in trace)
        {
            if (slotOf.TryGetValue(key, out var slot))
            {
                hits++;
                if (slot != tail)
                {
                    Unlink(slot);
                    PushTail(slot);
                }

                continue;
            }

            if (used < capacity)
            {
                slot = used++;
            }
            else
            {
                slot = head;
                Unlink(slot);
                slotOf.Remove(keys[slot]);
            }

            keys[slot] = key;
            slotOf[key] = slot;
            PushTail(slot);
        }

        return (double)hits / trace.Length;
    }

    /// <summary>
    /// Bélády's offline optimum (with bypass, as admission policies may bypass too): evict, or do not admit, whichever
    /// key is next requested furthest in the future.
    /// </summary>
    public static double Belady(int[] trace, int keySpace, int capacity)
    {
        var nextUse = new int[trace.Length];
        var seen = new int[keySpace];
        Array.Fill(seen, int.MaxValue);
        for (var i = trace.Length - 1; i >= 0; i--)
        {
            nextUse[i] = seen[trace[i]];
            seen[trace[i]] = i;
        }

        var cachedUntil = new Dictionary<int, int>(capacity * 2); // key → its next use
        var byNextUse = new SortedSet<(int NextUse, int Key)>();
        var hits = 0L;
        for (var i = 0; i < trace.Length; i++)
        {
            var key = trace[i];
            var upcoming = nextUse[i];
            if (cachedUntil.TryGetValue(key, out var current))
            {
                hits++;
                byNextUse.Remove((current, key));
                if (upcoming == int.MaxValue)
                {
                    cachedUntil.Remove(key); // never used again: drop it
                }
                else
                {
                    cachedUntil[key] = upcoming;
                    byNextUse.Add((upcoming, key));
                }

                continue;
            }

            if (upcoming == int.MaxValue)
            {
                continue; // never requested again: do not admit
            }

            if (cachedUntil.Count >= capacity)
            {
                var furthest = byNextUse.Max;
                if (furthest.NextUse <= upcoming)
                {
                    continue; // everything cached is needed sooner: bypass
                }

                byNextUse.Remove(furthest);
                cachedUntil.Remove(furthest.Key);
            }

            cachedUntil[key] = upcoming;
            byNextUse.Add((upcoming, key));
        }

        return (double)hits / trace.Length;
    }

    private sealed class KeyNode(int key) : PolicyNode(Mix(key), 1)
    {
        public int Key { get; } = key;

        private static int Mix(int key) => (int)((uint)key * 0x9E3779B1u);
    }
}
