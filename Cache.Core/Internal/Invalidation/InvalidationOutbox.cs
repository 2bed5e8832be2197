namespace OptimizedCache.Cache.Core.Internal.Invalidation;

/// <summary>An invalidation that has still to reach Redis: what, and when it happened (UTC ticks).</summary>
internal sealed record PendingInvalidation(InvalidationKind Kind, string[] Items, long UtcTicks);

/// <summary>
/// Invalidations that could not reach Redis (circuit open, disconnected, timed out), kept in order to be replayed
/// when it is back. Bounded by the number of items (keys, tags, patterns) held: past the capacity the queue is
/// dropped and replaced by an overflow marker, the latest invalidation time seen, which the replay turns into a
/// global invalidation ("everything created up to then is stale") so that no dropped invalidation is lost, only
/// widened. Thread-safe.
/// </summary>
internal sealed class InvalidationOutbox(int capacity)
{
    private readonly Lock _sync = new();
    private readonly Queue<PendingInvalidation> _queue = new();
    private int _items;
    private long? _overflowUtcTicks;
    private long _overflows;

    /// <summary>Whether anything waits (queued entries or an overflow marker).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_sync)
            {
                return _queue.Count == 0 && _overflowUtcTicks is null;
            }
        }
    }

    /// <summary>Items waiting (0 once overflowed: the marker stands for them).</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _items;
            }
        }
    }

    /// <summary>How many times the queue overflowed since start-up.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>Queues an invalidation; returns false when this made (or found) the queue overflowed.</summary>
    public bool Enqueue(PendingInvalidation invalidation)
    {
        lock (_sync)
        {
            if (_overflowUtcTicks is { } marker)
            {
                _overflowUtcTicks = Math.Max(marker, invalidation.UtcTicks);
                return false;
            }

            var weight = Math.Max(1, invalidation.Items.Length);
            if (_items + weight > capacity)
            {
                var latest = invalidation.UtcTicks;
                foreach (var queued in _queue)
                {
                    latest = Math.Max(latest, queued.UtcTicks);
                }

                _queue.Clear();
                _items = 0;
                _overflowUtcTicks = latest;
                Interlocked.Increment(ref _overflows);
                return false;
            }

            _queue.Enqueue(invalidation);
            _items += weight;
            return true;
        }
    }

    /// <summary>
    /// The next thing to replay without removing it: the overflow marker first (as an <see cref="InvalidationKind.All"/>
    /// at its time, which covers everything dropped and everything queued before it), else the oldest entry.
    /// </summary>
    public bool TryPeek(out PendingInvalidation? next)
    {
        lock (_sync)
        {
            if (_overflowUtcTicks is { } marker)
            {
                next = new PendingInvalidation(InvalidationKind.All, [], marker);
                return true;
            }

            return _queue.TryPeek(out next);
        }
    }

    /// <summary>Removes what <see cref="TryPeek"/> returned, once it reached Redis.</summary>
    public void Complete(PendingInvalidation done)
    {
        lock (_sync)
        {
            if (done.Kind == InvalidationKind.All && done.Items.Length == 0 && _overflowUtcTicks is { } marker)
            {
                // a later invalidation may have moved the marker meanwhile: only a marker that was written goes
                if (marker <= done.UtcTicks)
                {
                    _overflowUtcTicks = null;
                }

                return;
            }

            if (_queue.TryPeek(out var head) && ReferenceEquals(head, done))
            {
                _queue.Dequeue();
                _items -= Math.Max(1, done.Items.Length);
            }
        }
    }
}
