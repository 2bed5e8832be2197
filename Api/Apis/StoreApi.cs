using Microsoft.AspNetCore.Http.HttpResults;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;

namespace OptimizedCache.Api.Apis;

/// <summary>The dependencies store endpoints share.</summary>
/// <param name="Request">This request's cache decision.</param>
/// <param name="Cache">The cache in front of the origin.</param>
public readonly record struct StoreServices(StoreRequest Request, StoreCache Cache);

/// <summary>Reads: products, catalog, customers, orders, recommendations; and volatile reads (inventory).</summary>
public static class StoreApi
{
    /// <summary>Page size when none is given, and the largest allowed (Shopify's limit).</summary>
    public const int DefaultPageSize = 50, MaxPageSize = 250;

    /// <summary>Maps the read endpoints under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapStoreApi(this IEndpointRouteBuilder app)
    {
        var reads = app.MapGroup("/api").WithCacheFlag(CacheGroup.Reads).WithTags("Reads")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        reads.MapGet("/products", GetProducts);
        reads.MapGet("/products/{id}", GetProduct);
        reads.MapGet("/collections", GetCollections);
        reads.MapGet("/collections/{id}", GetCollection);
        reads.MapGet("/customers/{id}", GetCustomer);
        reads.MapGet("/customers/{id}/orders", GetCustomerOrders);
        reads.MapGet("/customers/{id}/recommendations", GetRecommendations);
        reads.MapGet("/orders/{id}", GetOrder);

        var volatileReads = app.MapGroup("/api").WithCacheFlag(CacheGroup.VolatileReads).WithTags("VolatileReads")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        volatileReads.MapGet("/inventory/{productId}", GetInventory);
        return app;
    }

    /// <summary>GET /api/products?page=&amp;pageSize=</summary>
    public static async Task<Results<Ok<ProductPage>, ProblemHttpResult>> GetProducts(
        string? page, string? pageSize, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseInt(page, "page", 1, 1, 100_000, out var p, out var problem)
            || !Validation.TryParseInt(pageSize, "pageSize", DefaultPageSize, 1, MaxPageSize, out var size, out problem))
        {
            return problem;
        }

        return TypedResults.Ok(await s.Cache.ReadAsync(
            s.Request, CacheEntries.ProductPage(p, size), "products.list", (p, size),
            static (o, a, ct) => o.GetProductsAsync(a.p, a.size, ct), cancellationToken));
    }

    /// <summary>GET /api/products/{id}</summary>
    public static Task<Results<Ok<Product>, ProblemHttpResult>> GetProduct(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.Product, "products.get", "product",
            static (o, id, ct) => o.GetProductAsync(id, ct), cancellationToken);

    /// <summary>GET /api/collections</summary>
    public static async Task<Ok<IReadOnlyList<CollectionSummary>>> GetCollections(
        [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        TypedResults.Ok(await s.Cache.ReadAsync(
            s.Request, CacheEntries.Collections(), "collections.list", 0,
            static (o, _, ct) => o.GetCollectionsAsync(ct), cancellationToken));

    /// <summary>GET /api/collections/{id}</summary>
    public static Task<Results<Ok<Collection>, ProblemHttpResult>> GetCollection(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.Collection, "collections.get", "collection",
            static (o, id, ct) => o.GetCollectionAsync(id, ct), cancellationToken);

    /// <summary>GET /api/customers/{id}</summary>
    public static Task<Results<Ok<Customer>, ProblemHttpResult>> GetCustomer(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.Customer, "customers.get", "customer",
            static (o, id, ct) => o.GetCustomerAsync(id, ct), cancellationToken);

    /// <summary>GET /api/customers/{id}/orders</summary>
    public static Task<Results<Ok<CustomerOrders>, ProblemHttpResult>> GetCustomerOrders(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.CustomerOrders, "customers.orders", "customer",
            static (o, id, ct) => o.GetCustomerOrdersAsync(id, ct), cancellationToken);

    /// <summary>GET /api/customers/{id}/recommendations</summary>
    public static Task<Results<Ok<Recommendations>, ProblemHttpResult>> GetRecommendations(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.Recommendations, "customers.recommendations", "customer",
            static (o, id, ct) => o.GetRecommendationsAsync(id, ct), cancellationToken);

    /// <summary>GET /api/orders/{id}</summary>
    public static Task<Results<Ok<Order>, ProblemHttpResult>> GetOrder(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            id, "id", s, CacheEntries.Order, "orders.get", "order",
            static (o, id, ct) => o.GetOrderAsync(id, ct), cancellationToken);

    /// <summary>GET /api/inventory/{productId}</summary>
    public static Task<Results<Ok<InventoryLevel>, ProblemHttpResult>> GetInventory(
        string productId, [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        ReadByIdAsync(
            productId, "productId", s, CacheEntries.Inventory, "inventory.get", "product",
            static (o, id, ct) => o.GetInventoryAsync(id, ct), cancellationToken);

    // The id reads: parse the id (400 naming it), read through the cache, 404 naming the entity when the origin has none.
    private static async Task<Results<Ok<T>, ProblemHttpResult>> ReadByIdAsync<T>(
        string text, string name, StoreServices s, Func<long, CacheEntry> entry, string endpoint, string entity,
        Func<IStoreOrigin, long, CancellationToken, ValueTask<T?>> fetch, CancellationToken cancellationToken)
        where T : class
    {
        if (!Validation.TryParseId(text, name, out var id, out var problem))
        {
            return problem;
        }

        var value = await s.Cache.ReadAsync(s.Request, entry(id), endpoint, id, fetch, cancellationToken);
        return value is null ? Validation.NotFound(entity, id) : TypedResults.Ok(value);
    }
}
