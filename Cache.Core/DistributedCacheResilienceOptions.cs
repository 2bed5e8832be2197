namespace OptimizedCache.Cache.Core;

/// <summary>
/// How the cache protects itself from a slow or absent Redis (<see cref="OptimizedHybridCacheOptions.Resilience"/>):
/// every L2 call has a timeout and goes through a circuit breaker; while the circuit is open L2 calls return
/// "unavailable" at once and the cache serves from L1 and the factory.
/// </summary>
public sealed class DistributedCacheResilienceOptions
{
    /// <summary>
    /// The L2 deadline: the longest a request waits on Redis before it counts the call as failed and moves on (to
    /// the origin for a read; a write is skipped). 250 ms is some hundred times a loaded Redis' p99 on a local
    /// network, so it does not fire on a healthy server, and it keeps a frozen Redis from costing a request more than
    /// a quarter of a second while the breaker's stall rule (Redis silent for half of it) opens the circuit.
    /// </summary>
    /// <value>250 milliseconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The share of failed L2 calls within <see cref="SamplingDuration"/> that opens the circuit; also the share of
    /// <see cref="SamplingDuration"/> during which Redis answered nothing (calls timed out, or were answered only after
    /// half the <see cref="Timeout"/>) that opens it. The second
    /// rule catches a stalling Redis: its few timed-out calls are outnumbered by the calls answered between stalls,
    /// so their ratio stays low, but the time it spent silent does not.
    /// </summary>
    /// <value>0.5.</value>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>The window over which <see cref="FailureRatio"/> is measured (in calls, and in time for stalls).</summary>
    /// <value>5 seconds.</value>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The fewest L2 calls within the window before the circuit may open.</summary>
    /// <value>10.</value>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>
    /// How long the circuit stays open before one probe call is let through (half-open). A reconnect of the Redis
    /// connection closes the circuit at once, without waiting for the probe.
    /// </summary>
    /// <value>2 seconds.</value>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest pause between two reconnect attempts of the cache's Redis connection (it caps the connection
    /// string's <c>reconnectMaxDelay</c>), so that L2 is back within seconds of Redis.
    /// </summary>
    /// <value>1 second.</value>
    public TimeSpan MaximumReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks every setting; returns one message per bad value (empty when all are valid).</summary>
    internal IEnumerable<string> Validate()
    {
        if (Timeout < TimeSpan.FromMilliseconds(10) || Timeout > TimeSpan.FromDays(1))
        {
            yield return $"Resilience.Timeout must be between 10 ms and 1 day; it is {Timeout}.";
        }

        if (!(FailureRatio is > 0 and <= 1))
        {
            yield return $"Resilience.FailureRatio must be above 0 and at most 1; it is {FailureRatio}.";
        }

        if (SamplingDuration < TimeSpan.FromMilliseconds(500) || SamplingDuration > TimeSpan.FromDays(1))
        {
            yield return $"Resilience.SamplingDuration must be between 500 ms and 1 day; it is {SamplingDuration}.";
        }

        if (MinimumThroughput < 2)
        {
            yield return $"Resilience.MinimumThroughput must be at least 2; it is {MinimumThroughput}.";
        }

        if (BreakDuration < TimeSpan.FromMilliseconds(500) || BreakDuration > TimeSpan.FromDays(1))
        {
            yield return $"Resilience.BreakDuration must be between 500 ms and 1 day; it is {BreakDuration}.";
        }

        if (MaximumReconnectDelay < TimeSpan.FromMilliseconds(10) || MaximumReconnectDelay > TimeSpan.FromMinutes(10))
        {
            yield return $"Resilience.MaximumReconnectDelay must be between 10 ms and 10 minutes; it is {MaximumReconnectDelay}.";
        }
    }
}
