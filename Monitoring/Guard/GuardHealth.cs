using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>How healthy the guard is: running, able to see Prometheus and the Api, evaluating on time.</summary>
public static class GuardHealth
{
    /// <summary>The guard's status and what is wrong, if anything.</summary>
    public static (HealthStatus Status, IReadOnlyList<string> Problems) Assess(GuardState state, GuardOptions options, DateTimeOffset now)
    {
        if (!options.Enabled)
        {
            return (HealthStatus.Degraded, ["the rollout guard is disabled (Monitoring:Guard:Enabled = false)"]);
        }

        var latest = state.Latest;
        if (latest is null)
        {
            return (HealthStatus.Healthy, []);
        }

        var problems = new List<string>();
        if (!latest.PrometheusReachable)
        {
            problems.Add("Prometheus unreachable: " + latest.PrometheusError);
        }
        else if (latest.Decision == GuardDecisions.QueryFailed)
        {
            problems.Add("query failed: " + latest.PrometheusError);
        }

        if (!latest.ApiReachable)
        {
            problems.Add("Api unreachable: " + latest.ApiError);
        }

        if (latest.Decision == GuardDecisions.RollbackFailed)
        {
            problems.Add("rollback failed: " + latest.Summary);
        }

        if (now - latest.Time > 3 * options.Interval + TimeSpan.FromSeconds(30))
        {
            problems.Add($"the last evaluation was at {latest.Time:O}; the guard is behind");
        }

        return (problems.Count == 0 ? HealthStatus.Healthy : HealthStatus.Degraded, problems);
    }
}

/// <summary>Reports the guard degraded (not unhealthy: Monitoring still serves) when it cannot do its job.</summary>
internal sealed class GuardHealthCheck(GuardState state, IOptionsMonitor<GuardOptions> options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (status, problems) = GuardHealth.Assess(state, options.CurrentValue, timeProvider.GetUtcNow());
        return Task.FromResult(new HealthCheckResult(status, problems.Count == 0 ? "the rollout guard is evaluating" : string.Join("; ", problems)));
    }
}
