using System.Diagnostics;
using System.Globalization;
using Microsoft.FeatureManagement;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Telemetry;

namespace OptimizedCache.Api.Caching;

/// <summary>
/// Runs around every store endpoint of a group: asks the group's flag once (through the request's
/// feature snapshot), turns origin failures into problem details (429 → 503 with Retry-After,
/// 5xx → 502, unreachable → 503), sets <c>X-Cache</c> and records the request's latency with its path.
/// </summary>
internal sealed class CacheFlagFilter(CacheGroup group) : IEndpointFilter
{
    private readonly string _feature = group.FeatureFor();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var request = services.GetRequiredService<StoreRequest>();
        var features = services.GetRequiredService<IVariantFeatureManagerSnapshot>();
        var metrics = services.GetRequiredService<ApiMetrics>();
        var start = Stopwatch.GetTimestamp();

        request.Group = group;
        request.UseCache = await features.IsEnabledAsync(_feature, http.RequestAborted);
        if (group == CacheGroup.Writes && request.UseCache)
        {
            request.WriteThrough = await features.IsEnabledAsync(CacheFeatures.WriteThrough, http.RequestAborted);
        }

        object? result;
        try
        {
            result = await next(context);
        }
        catch (StoreOriginException e)
        {
            if (e.RetryAfter is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            result = e.Failure switch
            {
                OriginFailure.RateLimited => TypedResults.Problem(
                    "The store is rate limiting requests; retry after the time in Retry-After.", statusCode: 503, title: "Store rate limit"),
                OriginFailure.Unavailable => TypedResults.Problem(
                    "The store did not answer.", statusCode: 503, title: "Store unavailable"),
                _ => TypedResults.Problem("The store failed to answer the request.", statusCode: 502, title: "Store error"),
            };
        }
        catch (StoreRejectedException e)
        {
            result = TypedResults.Problem(e.Message, statusCode: e.StatusCode);
        }
        catch
        {
            metrics.RecordRequest(group, request.Result, 500, Stopwatch.GetElapsedTime(start));
            throw;
        }

        http.Response.Headers["X-Cache"] = request.Result.HeaderValue();
        metrics.RecordRequest(group, request.Result, StatusOf(result), Stopwatch.GetElapsedTime(start));
        return result;
    }

    // Handlers return Results<…> unions; the status is on the result inside.
    private static int StatusOf(object? result) => result switch
    {
        INestedHttpResult nested => StatusOf(nested.Result),
        IStatusCodeHttpResult { StatusCode: { } code } => code,
        _ => 200,
    };
}

/// <summary>Attaches <see cref="CacheFlagFilter"/> to a group of endpoints.</summary>
internal static class CacheFlagFilterExtensions
{
    public static RouteGroupBuilder WithCacheFlag(this RouteGroupBuilder builder, CacheGroup group)
    {
        builder.AddEndpointFilter(new CacheFlagFilter(group));
        return builder;
    }
}
