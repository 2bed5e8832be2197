namespace OptimizedCache.Api.Origin;

/// <summary>
/// Shopify's REST rate limit: each request adds one to a bucket that drains at a fixed rate; a request
/// that would overflow it is refused with the time until there is room (its Retry-After).
/// </summary>
internal sealed class LeakyBucket(TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private double _level;
    private long _lastTimestamp = timeProvider.GetTimestamp();

    /// <summary>Requests currently in the bucket.</summary>
    public double Level
    {
        get
        {
            lock (_lock)
            {
                return _level;
            }
        }
    }

    /// <summary>Takes room for one request; returns null when admitted, else how long to wait.</summary>
    public TimeSpan? TryAcquire(int capacity, double leakPerSecond)
    {
        if (capacity <= 0)
        {
            return null;
        }

        lock (_lock)
        {
            var now = timeProvider.GetTimestamp();
            var elapsed = timeProvider.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            _lastTimestamp = now;
            _level = Math.Max(0, _level - (elapsed * leakPerSecond));
            if (_level + 1 > capacity)
            {
                return TimeSpan.FromSeconds((_level + 1 - capacity) / leakPerSecond);
            }

            _level += 1;
            return null;
        }
    }
}
