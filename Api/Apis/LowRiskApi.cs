using Microsoft.AspNetCore.Http.HttpResults;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Rollout;
using OptimizedCache.Api.Telemetry;

namespace OptimizedCache.Api.Apis;

/// <summary>The store's health with this replica's rollout state.</summary>
/// <param name="Store">What the origin reports (cached on the cached path).</param>
/// <param name="Phase">The rollout phase in force on this replica.</param>
/// <param name="Plan">The rollout plan.</param>
public sealed record HealthSummary(StoreStatus Store, int Phase, string Plan);

/// <summary>Store figures with this replica's request and origin-call totals.</summary>
/// <param name="Store">What the origin reports (cached on the cached path).</param>
/// <param name="Requests">Requests by group and cache result since start.</param>
/// <param name="OriginCalls">Origin calls since start.</param>
public sealed record MetricsSummary(StoreMetrics Store, IReadOnlyDictionary<string, RequestCounts> Requests, OriginCounts OriginCalls);

/// <summary>Low-risk endpoints: store health summary, metrics summary, recent logs.</summary>
public static class LowRiskApi
{
    private const int LogsKept = 200;

    /// <summary>Maps the low-risk endpoints under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapLowRiskApi(this IEndpointRouteBuilder app)
    {
        var lowRisk = app.MapGroup("/api").WithCacheFlag(CacheGroup.LowRisk).WithTags("LowRisk")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        lowRisk.MapGet("/health-summary", GetHealthSummary);
        lowRisk.MapGet("/metrics-summary", GetMetricsSummary);
        lowRisk.MapGet("/logs", GetLogs);
        return app;
    }

    /// <summary>GET /api/health-summary</summary>
    public static async Task<Ok<HealthSummary>> GetHealthSummary(
        [AsParameters] StoreServices s, RolloutCoordinator rollout, CancellationToken cancellationToken)
    {
        var status = await s.Cache.ReadAsync(
            s.Request, CacheEntries.StoreSummary("health"), "store.status", 0, static (o, _, ct) => o.GetStatusAsync(ct), cancellationToken);
        return TypedResults.Ok(new HealthSummary(status, rollout.State.Phase, rollout.Plan.Name));
    }

    /// <summary>GET /api/metrics-summary</summary>
    public static async Task<Ok<MetricsSummary>> GetMetricsSummary(
        [AsParameters] StoreServices s, ApiMetrics metrics, CancellationToken cancellationToken)
    {
        var store = await s.Cache.ReadAsync(
            s.Request, CacheEntries.StoreSummary("metrics"), "store.metrics", 0, static (o, _, ct) => o.GetMetricsAsync(ct), cancellationToken);
        return TypedResults.Ok(new MetricsSummary(store, metrics.RequestTotals(), metrics.OriginTotals()));
    }

    /// <summary>GET /api/logs?count= (at most 200, newest first)</summary>
    public static async Task<Results<Ok<IReadOnlyList<LogEntry>>, ProblemHttpResult>> GetLogs(
        string? count, [AsParameters] StoreServices s, RecentLogs logs, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseInt(count, "count", 50, 1, LogsKept, out var n, out var problem))
        {
            return problem;
        }

        // The ring is this replica's own data source, not the store: no origin call is counted.
        var latest = await s.Cache.ReadAsync(
            s.Request, CacheEntries.StoreSummary("logs"), endpoint: null, logs,
            static (_, ring, _) => ValueTask.FromResult(ring.Latest(LogsKept)), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<LogEntry>>([.. latest.Take(n)]);
    }
}
