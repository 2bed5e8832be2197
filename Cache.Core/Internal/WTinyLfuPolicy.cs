namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Weighted W-TinyLFU (Einziger, Friedman, Manes; as in Caffeine): new entries enter a small LRU window (1% of the
/// capacity); entries leaving the window compete for the main space (segmented LRU: 20% probation, 80% protected)
/// against the probation queue's least recently used entry, and win only when the frequency sketch says they are
/// more popular. Weights are bytes, so one large candidate may have to beat several victims, and a candidate larger
/// than the whole capacity is never admitted. Frequency (sketch), recency (queues) and size (weights) all count.
/// </summary>
/// <remarks>Not thread-safe: the store calls it under its eviction lock; the simulator calls it from one thread.</remarks>
internal sealed class WTinyLfuPolicy
{
    private const double WindowFraction = 0.01;
    private const double ProtectedFraction = 0.80;
    private const int WarmCandidateFrequency = 6; // Caffeine's defence against hash flooding: a warm candidate sometimes wins

    private readonly NodeQueue _window = new();
    private readonly NodeQueue _probation = new();
    private readonly NodeQueue _protected = new();
    private readonly FrequencySketch _sketch;
    private long _capacity;
    private long _windowCapacity;
    private long _protectedCapacity;
    private uint _random = 0x9E3779B9;

    /// <param name="capacity">Maximum total weight.</param>
    /// <param name="expectedEntries">Expected number of entries, to size the frequency sketch (it grows later if needed).</param>
    public WTinyLfuPolicy(long capacity, long expectedEntries)
    {
        _sketch = new FrequencySketch(expectedEntries);
        SetCapacity(capacity);
    }

    /// <summary>Maximum total weight.</summary>
    public long Capacity => _capacity;

    /// <summary>Total weight of every tracked node.</summary>
    public long WeightedSize => _window.Weight + _probation.Weight + _protected.Weight;

    /// <summary>Number of tracked nodes.</summary>
    public int Count => _window.Count + _probation.Count + _protected.Count;

    /// <summary>The frequency sketch (for tests).</summary>
    internal FrequencySketch Sketch => _sketch;

    /// <summary>Changes the capacity; the caller evicts with <see cref="EvictOverflow"/> afterwards.</summary>
    public void SetCapacity(long capacity)
    {
        _capacity = Math.Max(0, capacity);
        _windowCapacity = Math.Max(1, (long)(_capacity * WindowFraction));
        _protectedCapacity = (long)((_capacity - _windowCapacity) * ProtectedFraction);
    }

    /// <summary>Grows the sketch when the cache holds more entries than it was sized for.</summary>
    public void EnsureSketchCapacity(long entries) => _sketch.EnsureCapacity(entries);

    /// <summary>Records a read of a tracked node: counts it and refreshes its recency.</summary>
    public void OnAccess(PolicyNode node)
    {
        _sketch.Increment(node.Hash);
        switch (node.Queue)
        {
            case PolicyQueue.Window:
                _window.MoveToLast(node);
                break;
            case PolicyQueue.Probation:
                // re-accessed in probation: promote, demoting protected's LRU entries if it overflows
                _probation.Remove(node);
                node.Queue = PolicyQueue.Protected;
                _protected.AddLast(node);
                DemoteProtectedOverflow();
                break;
            case PolicyQueue.Protected:
                _protected.MoveToLast(node);
                break;
        }
    }

    /// <summary>Starts tracking a new node (it enters the window) and evicts what no longer fits.</summary>
    public void OnAdd(PolicyNode node, Action<PolicyNode> evicted)
    {
        _sketch.Increment(node.Hash);
        if (node.Weight > _capacity)
        {
            // could never fit: refuse it rather than flush everything else trying
            node.Queue = PolicyQueue.None;
            evicted(node);
            return;
        }

        node.Queue = PolicyQueue.Window;
        _window.AddLast(node);
        EvictOverflow(evicted);
    }

    /// <summary>Stops tracking a node removed by the cache (not an eviction).</summary>
    public void OnRemove(PolicyNode node)
    {
        QueueOf(node)?.Remove(node);
        node.Queue = PolicyQueue.None;
    }

    /// <summary>Brings the weighted size within capacity, calling <paramref name="evicted"/> for each node dropped.</summary>
    public void EvictOverflow(Action<PolicyNode> evicted)
    {
        // 1. the window overflows into probation: those nodes are the admission candidates
        PolicyNode? firstCandidate = null;
        while (_window.Weight > _windowCapacity && _window.First is { } moved)
        {
            _window.Remove(moved);
            moved.Queue = PolicyQueue.Probation;
            _probation.AddLast(moved);
            firstCandidate ??= moved;
        }

        // 2. while over capacity, each candidate duels the main space's LRU victim; the loser leaves. A candidate
        //    that wins stays, and the next candidate duels the next victim (so a heavy candidate pays in victims).
        var candidate = firstCandidate;
        var victim = _probation.First;
        while (WeightedSize > _capacity)
        {
            victim ??= _protected.First ?? _window.First;
            if (victim is null && candidate is null)
            {
                return;
            }

            if (victim is null)
            {
                var nextCandidate = candidate!.Next;
                Evict(candidate, evicted);
                candidate = nextCandidate;
                continue;
            }

            if (candidate is null || ReferenceEquals(candidate, victim))
            {
                // no duel possible: evict by recency
                var nextVictim = victim.Next;
                if (ReferenceEquals(candidate, victim))
                {
                    candidate = nextVictim;
                }

                Evict(victim, evicted);
                victim = nextVictim;
                continue;
            }

            if (candidate.Weight > _capacity || !Admit(candidate.Hash, victim.Hash))
            {
                var nextCandidate = candidate.Next;
                Evict(candidate, evicted);
                candidate = nextCandidate;
            }
            else
            {
                var nextVictim = victim.Next;
                Evict(victim, evicted);
                victim = nextVictim;
                candidate = candidate.Next;
            }
        }
    }

    private bool Admit(int candidateHash, int victimHash)
    {
        var victimFrequency = _sketch.Frequency(victimHash);
        var candidateFrequency = _sketch.Frequency(candidateHash);
        if (candidateFrequency > victimFrequency)
        {
            return true;
        }

        if (candidateFrequency >= WarmCandidateFrequency)
        {
            // xorshift: about one warm candidate in 128 is let in regardless, so an attacker cannot pin the victim
            _random ^= _random << 13;
            _random ^= _random >> 17;
            _random ^= _random << 5;
            return (_random & 127) == 0;
        }

        return false;
    }

    private void DemoteProtectedOverflow()
    {
        while (_protected.Weight > _protectedCapacity && _protected.First is { } demoted)
        {
            _protected.Remove(demoted);
            demoted.Queue = PolicyQueue.Probation;
            _probation.AddLast(demoted);
        }
    }

    private void Evict(PolicyNode node, Action<PolicyNode> evicted)
    {
        QueueOf(node)?.Remove(node);
        node.Queue = PolicyQueue.None;
        evicted(node);
    }

    private NodeQueue? QueueOf(PolicyNode node) => node.Queue switch
    {
        PolicyQueue.Window => _window,
        PolicyQueue.Probation => _probation,
        PolicyQueue.Protected => _protected,
        _ => null,
    };
}
