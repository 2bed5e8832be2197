using Microsoft.Extensions.Diagnostics.HealthChecks;
using OptimizedCache.Cache.Core.Internal;

namespace OptimizedCache.Cache.Core;

/// <summary>
/// The cache's health check (registered as <see cref="Name"/> by <c>AddOptimizedHybridCache</c>): healthy when the
/// cache runs L1 only, or when Redis answers a PING with the L2 circuit closed; degraded when Redis is disconnected,
/// slow, or the circuit is open or half-open. Never unhealthy: without Redis the cache still answers from L1 and the
/// factory, so readiness should not fail because of it. The data carries the connection state, the circuit state
/// and the PING latency.
/// </summary>
public sealed class OptimizedHybridCacheHealthCheck : IHealthCheck
{
    /// <summary>The registration name.</summary>
    public const string Name = "optimizedcache";

    /// <summary>A PING slower than this is reported as degraded.</summary>
    public static readonly TimeSpan DegradedLatency = TimeSpan.FromMilliseconds(100);

    private readonly OptimizedHybridCache _cache;

    /// <summary>Creates the check for <paramref name="cache"/>.</summary>
    public OptimizedHybridCacheHealthCheck(OptimizedHybridCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_cache.Redis is not { } redis)
        {
            return HealthCheckResult.Healthy("L1 only (no Redis configured).", new Dictionary<string, object> { ["l2"] = "none" });
        }

        var circuit = redis.CircuitState;
        var data = new Dictionary<string, object>
        {
            ["l2"] = "redis",
            ["endpoint"] = redis.Endpoint,
            ["connection"] = redis.ConnectionState.ToString(),
            ["circuit"] = CircuitName(circuit),
        };
        var (latency, error) = await redis.PingAsync(cancellationToken).ConfigureAwait(false);
        if (latency is { } value)
        {
            data["latency_ms"] = Math.Round(value.TotalMilliseconds, 3);
        }

        if (circuit != L2CircuitState.Closed)
        {
            return HealthCheckResult.Degraded($"L2 circuit is {CircuitName(circuit)}; serving from L1 and the origin.", data: data);
        }

        if (latency is null)
        {
            return HealthCheckResult.Degraded($"Redis did not answer ({error}); serving from L1 and the origin.", data: data);
        }

        return latency > DegradedLatency
            ? HealthCheckResult.Degraded($"Redis answered PING in {latency.Value.TotalMilliseconds:0.0} ms (over {DegradedLatency.TotalMilliseconds:0} ms).", data: data)
            : HealthCheckResult.Healthy($"L1 + L2; Redis answered PING in {latency.Value.TotalMilliseconds:0.0} ms.", data);
    }

    private static string CircuitName(L2CircuitState state) => state switch
    {
        L2CircuitState.Closed => "closed",
        L2CircuitState.HalfOpen => "half-open",
        _ => "open",
    };
}
