using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OptimizedCache.Api.Admin;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Rollout;
using OptimizedCache.Api.Telemetry;
using OptimizedCache.ServiceDefaults;

namespace OptimizedCache.Api.Apis;

/// <summary>A change's justification, and for rollout changes the phase it expects to leave (docs/admin-api.md).</summary>
/// <param name="Reason">Why, 1 to 500 characters.</param>
/// <param name="From">The phase the caller expects to leave; when given and not the phase in force, the change is refused
/// with 409 naming the phase in force (a double click, or a click after the guard rolled back, moves nothing).</param>
public sealed record ChangeRequest(string? Reason, int? From = null);

/// <summary>The rollout as <c>GET /admin/rollout</c> shows it.</summary>
/// <param name="Phase">The phase in force on this replica.</param>
/// <param name="Plan">The plan's name.</param>
/// <param name="LastPhase">The plan's last phase.</param>
/// <param name="Description">What the phase switches on.</param>
/// <param name="Features">Percentage per feature.</param>
/// <param name="Version">The state's version.</param>
/// <param name="Persisted">Whether the phase has reached the shared store (false while Redis is down).</param>
/// <param name="Shared">Whether the state is shared between replicas (Redis) or local.</param>
/// <param name="History">Recent changes, newest first.</param>
public sealed record RolloutStatus(
    int Phase, string Plan, int LastPhase, string Description, IReadOnlyDictionary<string, int> Features, long Version,
    bool Persisted, bool Shared, IReadOnlyList<RolloutChange> History);

/// <summary>What <c>GET /admin/cache/stats</c> reports.</summary>
/// <param name="Requests">API requests by group and cache result on this replica, with hit ratios.</param>
/// <param name="OriginCalls">Origin calls on this replica.</param>
/// <param name="Cache">The cache's own statistics, when it offers them.</param>
public sealed record CacheStats(IReadOnlyDictionary<string, RequestCounts> Requests, OriginCounts OriginCalls, object? Cache);

/// <summary>Source of the cache's own statistics for <c>/admin/cache/stats</c> (the cache's stats API).</summary>
public interface ICacheStatisticsSource
{
    /// <summary>A JSON-serializable snapshot of hit rate, memory and per-type / top-key statistics.</summary>
    object? GetStatistics();
}

/// <summary><c>/admin</c>: rollout, cache and origin controls (docs/admin-api.md).</summary>
public static class AdminApi
{
    /// <summary>Maps the admin endpoints behind the API key.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter<ApiKeyFilter>().WithTags("Admin").RequireApiKeyInDescription()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/rollout", GetRollout);
        admin.MapPost("/rollout/phase/{n}", SetPhase);
        admin.MapPost("/rollout/advance", Advance);
        admin.MapPost("/rollout/rollback", Rollback);
        admin.MapPost("/cache/clear", ClearCache);
        admin.MapGet("/cache/stats", GetCacheStats);
        admin.MapGet("/origin", GetOrigin);
        admin.MapPut("/origin", SetOrigin).Accepts<OriginBehavior>("application/json");
        return app;
    }

    /// <summary>GET /admin/rollout</summary>
    public static Ok<RolloutStatus> GetRollout(RolloutCoordinator rollout) => TypedResults.Ok(Status(rollout));

    /// <summary>POST /admin/rollout/phase/{n}</summary>
    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> SetPhase(
        string n, ChangeRequest? body, RolloutCoordinator rollout, HttpContext context)
    {
        if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var phase) || phase > rollout.Plan.LastPhase)
        {
            return Task.FromResult<Results<Ok<RolloutStatus>, ProblemHttpResult>>(
                Validation.BadRequest($"phase '{n}' is not a phase of plan '{rollout.Plan.Name}' (0 to {rollout.Plan.LastPhase})."));
        }

        return ChangeAsync(RolloutAction.Set, phase, body, rollout, context);
    }

    /// <summary>POST /admin/rollout/advance (409 at the last phase)</summary>
    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> Advance(ChangeRequest? body, RolloutCoordinator rollout, HttpContext context) =>
        ChangeAsync(RolloutAction.Advance, null, body, rollout, context);

    /// <summary>POST /admin/rollout/rollback?scope=current|complete</summary>
    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> Rollback(
        string? scope, ChangeRequest? body, RolloutCoordinator rollout, HttpContext context) =>
        scope switch
        {
            null or "" or "current" => ChangeAsync(RolloutAction.RollbackCurrent, null, body, rollout, context),
            "complete" => ChangeAsync(RolloutAction.RollbackComplete, null, body, rollout, context),
            _ => Task.FromResult<Results<Ok<RolloutStatus>, ProblemHttpResult>>(
                Validation.BadRequest($"scope '{scope}' must be 'current' or 'complete'.")),
        };

    /// <summary>POST /admin/cache/clear</summary>
    public static async Task<Results<Ok, ProblemHttpResult>> ClearCache(
        ChangeRequest? body, StoreCache cache, HttpContext context, ILogger<StoreCache> logger)
    {
        if (!Validation.TryGetReason(body?.Reason, out var problem))
        {
            return problem;
        }

        await cache.ClearAsync(context.RequestAborted);
        Log.CacheCleared(logger, Validation.Actor(context), body!.Reason!);
        return TypedResults.Ok();
    }

    /// <summary>GET /admin/cache/stats</summary>
    public static Ok<CacheStats> GetCacheStats(ApiMetrics metrics, IServiceProvider services) =>
        TypedResults.Ok(new CacheStats(metrics.RequestTotals(), metrics.OriginTotals(), services.GetService<ICacheStatisticsSource>()?.GetStatistics()));

    /// <summary>
    /// GET /admin/origin: the behaviour of the origin this replica calls: its own embedded store
    /// (<c>location: embedded</c>, this replica only) or the shared origin server (<c>location: shared</c>).
    /// </summary>
    public static async Task<Results<Ok<OriginStatus>, ProblemHttpResult>> GetOrigin(IStoreOrigin origin, CancellationToken cancellationToken)
    {
        if (origin is not IOriginControl control)
        {
            return TypedResults.Problem("The origin's behaviour cannot be read or changed here.", statusCode: StatusCodes.Status404NotFound);
        }

        try
        {
            return TypedResults.Ok(await control.GetOriginStatusAsync(cancellationToken));
        }
        catch (StoreOriginException e)
        {
            return OriginProblem(e);
        }
    }

    /// <summary>
    /// PUT /admin/origin: replaces the origin's behaviour (drills and tests). On the shared origin server the
    /// change applies to every replica; on an embedded store to this replica only.
    /// </summary>
    public static async Task<Results<Ok<OriginStatus>, ProblemHttpResult>> SetOrigin(
        JsonElement? body, IStoreOrigin origin, IOptions<JsonOptions> json, HttpContext context, ILogger<SimulatedStoreOrigin> logger)
    {
        if (origin is not IOriginControl control)
        {
            return TypedResults.Problem("The origin's behaviour cannot be read or changed here.", statusCode: StatusCodes.Status404NotFound);
        }

        if (!OriginBehavior.TryRead(body, json.Value.SerializerOptions, out var behavior, out var problem))
        {
            return Validation.BadRequest(problem);
        }

        try
        {
            var status = await control.SetBehaviorAsync(behavior, context.RequestAborted);
            Log.OriginChanged(logger, Validation.Actor(context), behavior.ToString());
            return TypedResults.Ok(status);
        }
        catch (StoreOriginException e)
        {
            return OriginProblem(e);
        }
    }

    private static ProblemHttpResult OriginProblem(StoreOriginException e) =>
        TypedResults.Problem(
            e.Message,
            statusCode: e.Failure == OriginFailure.ServerError ? StatusCodes.Status502BadGateway : StatusCodes.Status503ServiceUnavailable,
            title: "Origin server unavailable");

    private static async Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> ChangeAsync(
        RolloutAction action, int? phase, ChangeRequest? body, RolloutCoordinator rollout, HttpContext context)
    {
        if (!Validation.TryGetReason(body?.Reason, out var problem))
        {
            return problem;
        }

        if (body!.From is { } from && (from < 0 || from > rollout.Plan.LastPhase))
        {
            return Validation.BadRequest($"from {from} is not a phase of plan '{rollout.Plan.Name}' (0 to {rollout.Plan.LastPhase}).");
        }

        try
        {
            await rollout.ChangeAsync(action, phase, Validation.Actor(context), body!.Reason!, body.From, context.RequestAborted);
            return TypedResults.Ok(Status(rollout));
        }
        catch (ArgumentOutOfRangeException e)
        {
            return Validation.BadRequest(e.Message);
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }
    }

    private static RolloutStatus Status(RolloutCoordinator rollout)
    {
        var state = rollout.State;
        return new RolloutStatus(
            state.Phase, rollout.Plan.Name, rollout.Plan.LastPhase, rollout.Plan.Phases[state.Phase].Description,
            rollout.Percentages, state.Version, rollout.Persisted, rollout.Shared, state.History);
    }
}
