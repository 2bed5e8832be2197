using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Monitoring.Rollout;
using OptimizedCache.ServiceDefaults;

namespace OptimizedCache.Monitoring.Apis;

/// <summary>The control panel's API: status, history, chart series, and rollout changes proxied to the Api.</summary>
public static class StatusApi
{
    /// <summary>Longest reason accepted (the Api's own limit).</summary>
    public const int MaxReasonLength = 500;

    /// <summary>Maps <c>/api/status</c>, <c>/api/history</c>, <c>/api/series</c>, <c>/api/rollout/{action}</c>, <c>/api/baseline</c>.</summary>
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Guard").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/status", GetStatus);
        api.MapGet("/history", GetHistory);
        api.MapGet("/series", GetSeries);

        var admin = api.MapGroup(string.Empty).AddEndpointFilter<ApiKeyFilter>().RequireApiKeyInDescription().ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/rollout/{action}", ChangeRollout);
        admin.MapPost("/baseline", TakeBaseline);
        return app;
    }

    /// <summary>The latest evaluation, shaped for the panel.</summary>
    public static Ok<StatusResponse> GetStatus([AsParameters] MonitoringServices services)
    {
        var o = services.GuardOptions.CurrentValue;
        var latest = services.State.Latest;
        var (health, problems) = GuardHealth.Assess(services.State, o, services.TimeProvider.GetUtcNow());
        var cooldown = o.Cooldown > o.Window ? o.Cooldown : o.Window;
        var guard = new GuardStatus(
            o.Enabled,
            o.DryRun,
            !o.Enabled ? "disabled"
                : latest is null ? "starting"
                : latest.Triggers.Any(t => t.State == TriggerState.Firing) ? "firing"
                : health.ToString().ToLowerInvariant(),
            problems,
            latest?.Decision,
            latest?.Summary,
            services.State.LastRollbackAt,
            services.State.LastRollbackAt + cooldown,
            o.Interval.TotalSeconds,
            o.Window.TotalSeconds,
            o.MinimumRequests,
            o.RollbackOnMissingData);
        return TypedResults.Ok(new StatusResponse(
            latest?.Time,
            latest?.Phase,
            latest?.Plan,
            latest?.Features,
            new Endpoint(services.Options.Value.Prometheus?.ToString(), latest?.PrometheusReachable, latest?.PrometheusError),
            new Endpoint(services.Options.Value.Api?.ToString(), latest?.ApiReachable, latest?.ApiError),
            guard,
            services.Baselines.Current,
            latest?.Targets ?? [],
            latest?.Triggers ?? [],
            services.State.RolloutChanges));
    }

    /// <summary>The newest evaluations, newest first (at most the history's capacity).</summary>
    public static Ok<IReadOnlyList<GuardEvaluation>> GetHistory([AsParameters] MonitoringServices services, int? limit) =>
        TypedResults.Ok(services.State.History(limit ?? 100));

    /// <summary>One whitelisted chart over a range such as <c>1h</c>.</summary>
    public static async Task<Results<Ok<ChartData>, ProblemHttpResult>> GetSeries(
        [AsParameters] MonitoringServices services, string? metric, string? range, CancellationToken cancellationToken)
    {
        var charts = Charts.Create(services.GuardOptions.CurrentValue);
        if (metric is null || !charts.TryGetValue(metric, out var chart))
        {
            return TypedResults.Problem(statusCode: 400, title: "Unknown chart",
                detail: $"metric '{metric}' is not a chart; use one of: {string.Join(", ", charts.Keys)}.");
        }

        range ??= "1h";
        if (!Charts.TryParseRange(range, out var span) || span < Charts.MinRange || span > Charts.MaxRange)
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad range",
                detail: $"range '{range}' must be a duration such as 15m, 1h or 1d, between 1m and 7d.");
        }

        try
        {
            var data = await Charts.ReadAsync(services.Prometheus, chart, span, services.TimeProvider.GetUtcNow(),
                services.Options.Value.ScrapeInterval, cancellationToken);
            return TypedResults.Ok(data);
        }
        catch (PrometheusUnavailableException e)
        {
            return TypedResults.Problem(statusCode: 503, title: "Prometheus unreachable", detail: e.Message);
        }
        catch (PrometheusQueryException e)
        {
            return TypedResults.Problem(statusCode: 502, title: "Prometheus rejected the chart's query", detail: e.Message);
        }
    }

    /// <summary>
    /// Proxies <c>advance</c> or <c>rollback</c> (<c>?scope=current|complete</c>) to the Api with the configured key,
    /// and passes the Api's answer on unchanged.
    /// </summary>
    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> ChangeRollout(
        [AsParameters] MonitoringServices services, string action, string? scope, [FromBody] ChangeRequest? body, CancellationToken cancellationToken)
    {
        if (action is not ("advance" or "rollback"))
        {
            return TypedResults.Problem(statusCode: 400, title: "Unknown action", detail: $"action '{action}' must be 'advance' or 'rollback'.");
        }

        if (action == "rollback" && scope is not ("current" or "complete"))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad scope", detail: $"scope '{scope}' must be 'current' or 'complete'.");
        }

        var reason = string.IsNullOrWhiteSpace(body?.Reason) ? $"{action} from the control panel" : body.Reason.Trim();
        if (reason.Length > MaxReasonLength)
        {
            return TypedResults.Problem(statusCode: 400, title: "Reason too long",
                detail: $"the reason has {reason.Length} characters; at most {MaxReasonLength} are accepted.");
        }

        try
        {
            var result = await services.Api.ChangeRolloutAsync(action, action == "rollback" ? scope : null, reason, RolloutApiClient.PanelActor, body?.From, cancellationToken);
            Log.PanelChange(services.Logger, action, scope, result.StatusCode);
            if (result.Succeeded)
            {
                services.State.Wake();
            }

            return TypedResults.Content(result.Body, result.ContentType ?? "application/json", statusCode: result.StatusCode);
        }
        catch (RolloutApiUnavailableException e)
        {
            return TypedResults.Problem(statusCode: 502, title: "The Api is unreachable", detail: e.Message);
        }
    }

    /// <summary>Re-takes the baseline from the current window; 409 unless the whole window was phase 0 with enough requests.</summary>
    public static async Task<Results<Ok<Baseline>, ProblemHttpResult>> TakeBaseline(
        [AsParameters] MonitoringServices services, CancellationToken cancellationToken)
    {
        try
        {
            var (baseline, problem) = await services.Guard.TakeBaselineAsync(cancellationToken);
            return baseline is not null
                ? TypedResults.Ok(baseline)
                : TypedResults.Problem(statusCode: 409, title: "Baseline not taken", detail: problem);
        }
        catch (PrometheusUnavailableException e)
        {
            return TypedResults.Problem(statusCode: 503, title: "Prometheus unreachable", detail: e.Message);
        }
        catch (PrometheusQueryException e)
        {
            return TypedResults.Problem(statusCode: 502, title: "Prometheus rejected a query", detail: e.Message);
        }
    }
}

/// <summary>The body of a rollout change from the panel.</summary>
/// <param name="Reason">Why (1–500 characters; a default is used when empty).</param>
/// <param name="From">The phase shown when the operator clicked; the Api refuses the change (409) if another is in force.</param>
public sealed record ChangeRequest(string? Reason, int? From = null);

/// <summary>A dependency's address and whether it answered the last evaluation.</summary>
/// <param name="Url">Its base URL.</param>
/// <param name="Reachable">Whether it answered; null before the first evaluation.</param>
/// <param name="Error">What went wrong.</param>
public sealed record Endpoint(string? Url, bool? Reachable, string? Error);

/// <summary>The guard's own state.</summary>
/// <param name="Enabled">Whether it runs.</param>
/// <param name="DryRun">Whether it only records.</param>
/// <param name="Status"><c>disabled</c>, <c>starting</c>, <c>healthy</c> or <c>degraded</c>.</param>
/// <param name="Problems">What makes it degraded.</param>
/// <param name="LastDecision">The last decision.</param>
/// <param name="LastSummary">Its description.</param>
/// <param name="LastRollbackAt">When it last rolled back.</param>
/// <param name="CooldownUntil">No rollback before this time.</param>
/// <param name="IntervalSeconds">Evaluation interval.</param>
/// <param name="WindowSeconds">Evaluation window.</param>
/// <param name="MinimumRequests">Requests a trigger needs.</param>
/// <param name="RollbackOnMissingData">Whether missing series roll back.</param>
public sealed record GuardStatus(
    bool Enabled,
    bool DryRun,
    string Status,
    IReadOnlyList<string> Problems,
    string? LastDecision,
    string? LastSummary,
    DateTimeOffset? LastRollbackAt,
    DateTimeOffset? CooldownUntil,
    double IntervalSeconds,
    double WindowSeconds,
    int MinimumRequests,
    bool RollbackOnMissingData);

/// <summary>What <c>GET /api/status</c> returns.</summary>
/// <param name="EvaluatedAt">When the figures were read.</param>
/// <param name="Phase">The rollout phase.</param>
/// <param name="Plan">The rollout plan.</param>
/// <param name="Features">Flag percentages.</param>
/// <param name="Prometheus">Prometheus' state.</param>
/// <param name="Api">The Api's state.</param>
/// <param name="Guard">The guard's state.</param>
/// <param name="Baseline">The baseline, if taken.</param>
/// <param name="Targets">Targets with live values.</param>
/// <param name="Triggers">Trigger states with evidence.</param>
/// <param name="RolloutChanges">The Api's latest rollout changes (who, when, from, to, why), newest first.</param>
public sealed record StatusResponse(
    DateTimeOffset? EvaluatedAt,
    int? Phase,
    string? Plan,
    IReadOnlyDictionary<string, double>? Features,
    Endpoint Prometheus,
    Endpoint Api,
    GuardStatus Guard,
    Baseline? Baseline,
    IReadOnlyList<TargetResult> Targets,
    IReadOnlyList<TriggerResult> Triggers,
    IReadOnlyList<Rollout.RolloutChange> RolloutChanges);
