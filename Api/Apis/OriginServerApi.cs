using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OptimizedCache.Api.Admin;
using OptimizedCache.Api.Origin;
using OptimizedCache.ServiceDefaults;

namespace OptimizedCache.Api.Apis;

/// <summary>
/// <c>/origin</c>: the simulated store served over HTTP to every Api replica (the origin server role,
/// <c>Origin:Role=Server</c>), with the store's own latency, leaky-bucket 429s and injected failures. What
/// <see cref="HttpStoreOrigin"/> calls; nothing here caches. Changing the behaviour needs the admin key.
/// </summary>
public static class OriginServerApi
{
    /// <summary>Maps the store's endpoints under <c>/origin</c>.</summary>
    public static IEndpointRouteBuilder MapOriginServerApi(this IEndpointRouteBuilder app)
    {
        var store = app.MapGroup("/origin").AddEndpointFilter<OriginFailureFilter>().WithTags("Origin")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        store.MapGet("/status", static async (SimulatedStoreOrigin o, CancellationToken ct) => TypedResults.Ok(await o.GetStatusAsync(ct)));
        store.MapGet("/metrics", static async (SimulatedStoreOrigin o, CancellationToken ct) => TypedResults.Ok(await o.GetMetricsAsync(ct)));
        store.MapGet("/products", GetProducts);
        store.MapGet("/products/{id:long}", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetProductAsync(id, ct)));
        store.MapGet("/collections", static async (SimulatedStoreOrigin o, CancellationToken ct) => TypedResults.Ok(await o.GetCollectionsAsync(ct)));
        store.MapGet("/collections/{id:long}", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetCollectionAsync(id, ct)));
        store.MapGet("/customers/{id:long}", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetCustomerAsync(id, ct)));
        store.MapGet("/customers/{id:long}/orders", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetCustomerOrdersAsync(id, ct)));
        store.MapGet("/customers/{id:long}/recommendations", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetRecommendationsAsync(id, ct)));
        store.MapGet("/orders/{id:long}", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetOrderAsync(id, ct)));
        store.MapGet("/inventory/{id:long}", static (long id, SimulatedStoreOrigin o, CancellationToken ct) => Found(o.GetInventoryAsync(id, ct)));
        store.MapPut("/products/{id:long}", UpdateProduct);
        store.MapPost("/inventory/{id:long}/adjust", AdjustInventory);
        store.MapPost("/orders", CreateOrder);

        var behavior = app.MapGroup("/origin/behavior").AddEndpointFilter<ApiKeyFilter>().WithTags("Origin").RequireApiKeyInDescription()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        behavior.MapGet("/", static async (SimulatedStoreOrigin o, CancellationToken ct) => TypedResults.Ok(Shared(await o.GetOriginStatusAsync(ct))));
        behavior.MapPut("/", SetBehavior).Accepts<OriginBehavior>("application/json");
        return app;
    }

    /// <summary>GET /origin/products?page=&amp;pageSize=</summary>
    public static async Task<Results<Ok<ProductPage>, ProblemHttpResult>> GetProducts(
        string? page, string? pageSize, SimulatedStoreOrigin origin, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseInt(page, "page", 1, 1, 100_000, out var p, out var problem)
            || !Validation.TryParseInt(pageSize, "pageSize", StoreApi.DefaultPageSize, 1, StoreApi.MaxPageSize, out var size, out problem))
        {
            return problem;
        }

        return TypedResults.Ok(await origin.GetProductsAsync(p, size, cancellationToken));
    }

    /// <summary>PUT /origin/products/{id}</summary>
    public static Task<Results<Ok<Product>, ProblemHttpResult>> UpdateProduct(
        long id, ProductUpdate? update, SimulatedStoreOrigin origin, CancellationToken cancellationToken) =>
        update is null
            ? Task.FromResult<Results<Ok<Product>, ProblemHttpResult>>(Validation.BadRequest("The body must be a product update."))
            : Found(origin.UpdateProductAsync(id, update, cancellationToken));

    /// <summary>POST /origin/inventory/{id}/adjust</summary>
    public static Task<Results<Ok<InventoryLevel>, ProblemHttpResult>> AdjustInventory(
        long id, InventoryAdjustment? adjustment, SimulatedStoreOrigin origin, CancellationToken cancellationToken) =>
        adjustment is null
            ? Task.FromResult<Results<Ok<InventoryLevel>, ProblemHttpResult>>(Validation.BadRequest("The body must be an inventory adjustment."))
            : Found(origin.AdjustInventoryAsync(id, adjustment.Delta, cancellationToken));

    /// <summary>POST /origin/orders</summary>
    public static async Task<Results<Ok<Order>, ProblemHttpResult>> CreateOrder(
        NewOrder? order, SimulatedStoreOrigin origin, CancellationToken cancellationToken) =>
        WritesApi.Check(order) is { } problem ? Validation.BadRequest(problem) : TypedResults.Ok(await origin.CreateOrderAsync(order!, cancellationToken));

    /// <summary>PUT /origin/behavior</summary>
    public static async Task<Results<Ok<OriginStatus>, ProblemHttpResult>> SetBehavior(
        JsonElement? body, SimulatedStoreOrigin origin, IOptions<JsonOptions> json, HttpContext context, ILogger<SimulatedStoreOrigin> logger)
    {
        if (!OriginBehavior.TryRead(body, json.Value.SerializerOptions, out var behavior, out var problem))
        {
            return Validation.BadRequest(problem);
        }

        var status = await origin.SetBehaviorAsync(behavior, context.RequestAborted);
        Log.OriginChanged(logger, Validation.Actor(context), behavior.ToString());
        return TypedResults.Ok(Shared(status));
    }

    private static OriginStatus Shared(OriginStatus status) => status with { Location = OriginStatus.Shared };

    private static async Task<Results<Ok<T>, ProblemHttpResult>> Found<T>(ValueTask<T?> read)
        where T : class =>
        await read is { } value
            ? TypedResults.Ok(value)
            : TypedResults.Problem("The store has no such entity.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>
    /// Answers the store's failures the way a real store would: 429 with Retry-After, 500 for a server
    /// error, a dropped connection for "did not answer", and its refusals as 4xx problem details.
    /// </summary>
    private sealed class OriginFailureFilter : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            try
            {
                return await next(context);
            }
            catch (StoreOriginException e) when (e.Failure == OriginFailure.RateLimited)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling((e.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
            }
            catch (StoreOriginException e) when (e.Failure == OriginFailure.Unavailable)
            {
                context.HttpContext.Abort();
                return TypedResults.Empty;
            }
            catch (StoreOriginException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status500InternalServerError, title: "Store error");
            }
            catch (StoreRejectedException e)
            {
                return TypedResults.Problem(e.Message, statusCode: e.StatusCode);
            }
        }
    }
}
