using System.Collections.Concurrent;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// When each tag was last invalidated, and when everything was (<c>*</c>). An entry created at or before the
/// invalidation time of any of its tags, or of <c>*</c>, is invalid; it is dropped lazily when read or swept. The
/// table is bounded: past its capacity the oldest tag time is folded into an eager scan of L1 (which removes the
/// entries it would have invalidated), so nothing invalidated comes back.
/// </summary>
internal sealed class TagInvalidationTable(int capacity, Action<string, long> foldIntoScan)
{
    /// <summary>The tag that stands for every entry.</summary>
    public const string Wildcard = "*";

    private readonly ConcurrentDictionary<string, long> _tags = new(StringComparer.Ordinal);
    private long _all = long.MinValue;
    private long _latest = long.MinValue;

    public int Count => _tags.Count;

    /// <summary>The latest invalidation time recorded for any tag (or <c>*</c>).</summary>
    public long Latest => Volatile.Read(ref _latest);

    public bool IsInvalid(L1Entry entry) => IsInvalid(entry.CreatedAt, entry.Tags);

    /// <summary>Whether something created at <paramref name="created"/> with these tags has been invalidated since.</summary>
    public bool IsInvalid(long created, string[] tags)
    {
        if (created <= Volatile.Read(ref _all))
        {
            return true;
        }

        for (var i = 0; i < tags.Length; i++)
        {
            if (_tags.TryGetValue(tags[i], out var invalidatedAt) && created <= invalidatedAt)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Records an invalidation of <paramref name="tag"/> (or of everything, for <c>*</c>) at <paramref name="timestamp"/>.</summary>
    public void Invalidate(string tag, long timestamp)
    {
        long latest;
        while ((latest = Volatile.Read(ref _latest)) < timestamp && Interlocked.CompareExchange(ref _latest, timestamp, latest) != latest)
        {
        }

        if (tag == Wildcard)
        {
            long current;
            do
            {
                current = Volatile.Read(ref _all);
                if (current >= timestamp)
                {
                    return;
                }
            }
            while (Interlocked.CompareExchange(ref _all, timestamp, current) != current);

            // every entry older than now is invalid anyway: the per-tag times before it carry no information
            foreach (var pair in _tags)
            {
                if (pair.Value <= timestamp)
                {
                    _tags.TryRemove(pair);
                }
            }

            return;
        }

        _tags.AddOrUpdate(tag, static (_, next) => next, static (_, existing, next) => Math.Max(existing, next), timestamp);
        while (_tags.Count > capacity)
        {
            var oldest = default(KeyValuePair<string, long>);
            var found = false;
            foreach (var pair in _tags)
            {
                if (!found || pair.Value < oldest.Value)
                {
                    (oldest, found) = (pair, true);
                }
            }

            if (!found || !_tags.TryRemove(oldest))
            {
                break;
            }

            foldIntoScan(oldest.Key, oldest.Value);
        }
    }
}
