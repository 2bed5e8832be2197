using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OptimizedCache.Cache.Core.Redis;

/// <summary>
/// Reports Redis as healthy (PING answered quickly), degraded (PING slower than the threshold) or unhealthy
/// (disconnected, or PING failed), with the latency and the connection state in the data.
/// </summary>
public sealed class RedisHealthCheck : IHealthCheck
{
    private readonly RedisClient _client;
    private readonly TimeSpan _degradedLatency;

    /// <summary>Creates the check.</summary>
    /// <param name="client">The client to check.</param>
    /// <param name="degradedLatency">A PING slower than this is reported as degraded; 100 ms when null.</param>
    public RedisHealthCheck(RedisClient client, TimeSpan? degradedLatency = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _degradedLatency = degradedLatency ?? TimeSpan.FromMilliseconds(100);
        if (_degradedLatency <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(degradedLatency), degradedLatency, "The degraded-latency threshold must be positive.");
        }
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = _client.State;
        var data = new Dictionary<string, object>
        {
            ["state"] = state.ToString(),
            ["endpoint"] = _client.Endpoint.ToString() ?? string.Empty,
        };
        if (state != RedisConnectionState.Connected)
        {
            return new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy, $"Redis is {state}.", data: data);
        }

        try
        {
            var latency = await _client.PingAsync(cancellationToken).ConfigureAwait(false);
            data["latency_ms"] = latency.TotalMilliseconds;
            return latency > _degradedLatency
                ? HealthCheckResult.Degraded($"Redis answered PING in {latency.TotalMilliseconds:0.0} ms (over {_degradedLatency.TotalMilliseconds:0} ms).", data: data)
                : HealthCheckResult.Healthy($"Redis answered PING in {latency.TotalMilliseconds:0.0} ms.", data);
        }
        catch (RedisException ex)
        {
            return new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy, $"Redis PING failed: {ex.Message}", ex, data);
        }
    }
}
