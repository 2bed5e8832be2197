namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// One L1 entry: the value as an object (immutable types, returned as the same instance) or as its serialized
/// payload (mutable types, deserialized into a fresh copy per hit), with its times in <see cref="TimeProvider"/>
/// timestamp units, its tags and its data type. Immutable after publication except for the refresh flag and the
/// policy links (which only the eviction lock touches).
/// </summary>
internal sealed class L1Entry : PolicyNode
{
    private int _refreshing;

    public L1Entry(string key, Type valueType, object? value, byte[]? payload, long weight, EntryTimes times, string[] tags, int dataType)
        : base(key.GetHashCode(), weight)
    {
        Key = key;
        ValueType = valueType;
        Value = value;
        Payload = payload;
        CreatedAt = times.CreatedAt;
        ExpiresAt = times.ExpiresAt;
        RefreshAt = times.RefreshAt;
        StaleUntil = times.StaleUntil;
        Tags = tags;
        DataType = dataType;
    }

    public string Key { get; }

    /// <summary>The <c>T</c> the entry was written as; a read as another type is a miss.</summary>
    public Type ValueType { get; }

    /// <summary>The value itself, for types returned as the same instance (immutable types).</summary>
    public object? Value { get; }

    /// <summary>The serialized value, for mutable types (a fresh copy is deserialized per hit); null otherwise.</summary>
    public byte[]? Payload { get; }

    public long CreatedAt { get; }

    public long ExpiresAt { get; }

    /// <summary>From this time on, a read refreshes the entry in the background (<see cref="long.MaxValue"/>: never).</summary>
    public long RefreshAt { get; }

    /// <summary>Until this time an expired entry may still be served by fail-safe; after it, the entry is dead.</summary>
    public long StaleUntil { get; }

    public string[] Tags { get; }

    /// <summary>Index of the data type (from the key prefix) for per-type statistics.</summary>
    public int DataType { get; }

    /// <summary>Set by the first reader that starts a background refresh, so the refresh happens once.</summary>
    public bool TryBeginRefresh() => Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0;

    /// <summary>Allows another refresh attempt after a failed one.</summary>
    public void EndRefresh() => Volatile.Write(ref _refreshing, 0);
}

/// <summary>The times of an entry, in <see cref="TimeProvider"/> timestamp units.</summary>
internal readonly record struct EntryTimes(long CreatedAt, long ExpiresAt, long RefreshAt, long StaleUntil);
