using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// The L1 store: a concurrent dictionary for lock-free reads, a weighted W-TinyLFU policy for admission and eviction,
/// and a lossy read buffer that carries hits to the policy. Every structural change (add, replace, remove, evict,
/// resize) happens under one lock, so the dictionary and the policy's queues always agree; reads never take it
/// (a reader that fills its read-buffer stripe only tries to).
/// </summary>
internal sealed class L1Store : IThreadPoolWorkItem
{
    private readonly ConcurrentDictionary<string, L1Entry> _map = new(StringComparer.Ordinal);
    private readonly Lock _evictionLock = new();
    private readonly StripedReadBuffer _reads = new();
    private readonly WTinyLfuPolicy _policy;
    private readonly Action<L1Entry, EvictionReason> _onEvicted;
    private readonly Action<PolicyNode> _evictForCapacity;
    private readonly Action<PolicyNode> _evictForPressure;
    private readonly Action<L1Store, PolicyNode> _applyRead;
    private Action<L1Entry>? _onReadDrained;
    private int _drainScheduled;
    private long _sketchEntries;
    private long _capacity;

    /// <param name="capacityBytes">The byte budget.</param>
    /// <param name="onEvicted">Called under the lock for every entry leaving the store, with the reason.</param>
    public L1Store(long capacityBytes, Action<L1Entry, EvictionReason> onEvicted)
    {
        _sketchEntries = Math.Clamp(capacityBytes / 1024, 1024, 1 << 20);
        _policy = new WTinyLfuPolicy(capacityBytes, _sketchEntries);
        _capacity = capacityBytes;
        _onEvicted = onEvicted;
        _evictForCapacity = node => Drop((L1Entry)node, EvictionReason.Capacity);
        _evictForPressure = node => Drop((L1Entry)node, EvictionReason.MemoryPressure);
        _applyRead = static (store, node) =>
        {
            if (node.Queue != PolicyQueue.None)
            {
                store._policy.OnAccess(node);
                store._onReadDrained?.Invoke((L1Entry)node);
            }
        };
    }

    /// <summary>Called under the lock for each hit replayed from the read buffer (sampled: the buffer is lossy).</summary>
    public Action<L1Entry>? OnReadDrained
    {
        get => _onReadDrained;
        set => _onReadDrained = value;
    }

    public int Count => _map.Count;

    public long WeightedSize
    {
        get
        {
            lock (_evictionLock)
            {
                return _policy.WeightedSize;
            }
        }
    }

    public long Capacity => Volatile.Read(ref _capacity);

    /// <summary>Looks the key up without judging freshness; lock-free.</summary>
    public bool TryPeek(string key, [NotNullWhen(true)] out L1Entry? entry) => _map.TryGetValue(key, out entry);

    /// <summary>Looks the key up by span without allocating a string.</summary>
    public bool TryPeek(ReadOnlySpan<char> key, [NotNullWhen(true)] out L1Entry? entry)
        => _map.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out entry);

    /// <summary>
    /// Records a hit for the policy without locks or waiting: when this thread's stripe fills, one replay is queued
    /// to the thread pool (at most one at a time), as Caffeine schedules its maintenance, so the policy's work
    /// (sketch count, queue move, hot-key sample) stays off the hit path. Reads recorded while a replay is pending
    /// may overwrite one another (the buffer is lossy); writes replay what is pending before they change anything.
    /// </summary>
    /// <param name="entry">The entry read.</param>
    /// <param name="threadId">The caller's managed thread id (it picks the read-buffer stripe).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordRead(L1Entry entry, int threadId)
    {
        if (_reads.Record(entry, threadId) && Volatile.Read(ref _drainScheduled) == 0 && Interlocked.Exchange(ref _drainScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>The queued replay of the read buffer.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            lock (_evictionLock)
            {
                _reads.Drain(this, _applyRead);
            }
        }
        finally
        {
            Volatile.Write(ref _drainScheduled, 0);
        }
    }

    /// <summary>Adds or replaces the entry for its key, then evicts what no longer fits (possibly the entry itself).</summary>
    public void Set(L1Entry entry)
    {
        lock (_evictionLock)
        {
            _reads.Drain(this, _applyRead);
            if (_map.TryGetValue(entry.Key, out var previous))
            {
                // a replacement is not an eviction: the key stays cached
                _policy.OnRemove(previous);
            }

            _map[entry.Key] = entry;
            if (_policy.Count + 1 > _sketchEntries && _sketchEntries < (1 << 24))
            {
                _sketchEntries *= 2;
                _policy.EnsureSketchCapacity(_sketchEntries);
            }

            _policy.OnAdd(entry, _evictForCapacity);
        }
    }

    /// <summary>Removes whatever entry the key has.</summary>
    public bool Remove(string key, EvictionReason reason)
    {
        lock (_evictionLock)
        {
            if (_map.TryGetValue(key, out var entry))
            {
                _policy.OnRemove(entry);
                Drop(entry, reason);
                return true;
            }

            return false;
        }
    }

    /// <summary>Removes this very entry, if it is still the one stored under its key.</summary>
    public bool Remove(L1Entry entry, EvictionReason reason)
    {
        lock (_evictionLock)
        {
            if (_map.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
            {
                _policy.OnRemove(entry);
                Drop(entry, reason);
                return true;
            }

            return false;
        }
    }

    /// <summary>Removes every entry matching <paramref name="isDead"/>; returns how many.</summary>
    public int RemoveWhere<TState>(TState state, Func<TState, L1Entry, bool> isDead, EvictionReason reason)
    {
        var removed = 0;
        foreach (var pair in _map)
        {
            if (isDead(state, pair.Value) && Remove(pair.Value, reason))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Changes the budget; shrinking evicts at once, counted with <paramref name="reason"/>.</summary>
    public void SetCapacity(long capacityBytes, EvictionReason reason)
    {
        lock (_evictionLock)
        {
            Volatile.Write(ref _capacity, capacityBytes);
            _policy.SetCapacity(capacityBytes);
            _policy.EvictOverflow(reason == EvictionReason.MemoryPressure ? _evictForPressure : _evictForCapacity);
        }
    }

    /// <summary>Drops every entry.</summary>
    public int Clear()
    {
        lock (_evictionLock)
        {
            _reads.Clear();
            var count = 0;
            foreach (var pair in _map)
            {
                _policy.OnRemove(pair.Value);
                Drop(pair.Value, EvictionReason.Removed);
                count++;
            }

            return count;
        }
    }

    /// <summary>Replays pending reads now (tests use it to make the policy's view deterministic).</summary>
    internal void DrainReads()
    {
        lock (_evictionLock)
        {
            _reads.Drain(this, _applyRead);
        }
    }

    private void Drop(L1Entry entry, EvictionReason reason)
    {
        _map.TryRemove(new KeyValuePair<string, L1Entry>(entry.Key, entry));
        _onEvicted(entry, reason);
    }
}
