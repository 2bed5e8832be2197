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
        var reads = app.MapGroup("/api").WithCacheFlag(CacheGroup.Reads).WithTags("Reads");
        reads.MapGet("/products", GetProducts);
        reads.MapGet("/products/{id}", GetProduct);
        reads.MapGet("/collections", GetCollections);
        reads.MapGet("/collections/{id}", GetCollection);
        reads.MapGet("/customers/{id}", GetCustomer);
        reads.MapGet("/customers/{id}/orders", GetCustomerOrders);
        reads.MapGet("/customers/{id}/recommendations", GetRecommendations);
        reads.MapGet("/orders/{id}", GetOrder);

        var volatileReads = app.MapGroup("/api").WithCacheFlag(CacheGroup.VolatileReads).WithTags("VolatileReads");
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
    public static async Task<Results<Ok<Product>, ProblemHttpResult>> GetProduct(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var productId, out var problem))
        {
            return problem;
        }

        var product = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Product(productId), "products.get", productId,
            static (o, id, ct) => o.GetProductAsync(id, ct), cancellationToken);
        return product is null ? Validation.NotFound("product", productId) : TypedResults.Ok(product);
    }

    /// <summary>GET /api/collections</summary>
    public static async Task<Ok<IReadOnlyList<CollectionSummary>>> GetCollections(
        [AsParameters] StoreServices s, CancellationToken cancellationToken) =>
        TypedResults.Ok(await s.Cache.ReadAsync(
            s.Request, CacheEntries.Collections(), "collections.list", 0,
            static (o, _, ct) => o.GetCollectionsAsync(ct), cancellationToken));

    /// <summary>GET /api/collections/{id}</summary>
    public static async Task<Results<Ok<Collection>, ProblemHttpResult>> GetCollection(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var collectionId, out var problem))
        {
            return problem;
        }

        var collection = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Collection(collectionId), "collections.get", collectionId,
            static (o, id, ct) => o.GetCollectionAsync(id, ct), cancellationToken);
        return collection is null ? Validation.NotFound("collection", collectionId) : TypedResults.Ok(collection);
    }

    /// <summary>GET /api/customers/{id}</summary>
    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> GetCustomer(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var customerId, out var problem))
        {
            return problem;
        }

        var customer = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Customer(customerId), "customers.get", customerId,
            static (o, id, ct) => o.GetCustomerAsync(id, ct), cancellationToken);
        return customer is null ? Validation.NotFound("customer", customerId) : TypedResults.Ok(customer);
    }

    /// <summary>GET /api/customers/{id}/orders</summary>
    public static async Task<Results<Ok<CustomerOrders>, ProblemHttpResult>> GetCustomerOrders(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var customerId, out var problem))
        {
            return problem;
        }

        var orders = await s.Cache.ReadAsync(
            s.Request, CacheEntries.CustomerOrders(customerId), "customers.orders", customerId,
            static (o, id, ct) => o.GetCustomerOrdersAsync(id, ct), cancellationToken);
        return orders is null ? Validation.NotFound("customer", customerId) : TypedResults.Ok(orders);
    }

    /// <summary>GET /api/customers/{id}/recommendations</summary>
    public static async Task<Results<Ok<Recommendations>, ProblemHttpResult>> GetRecommendations(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var customerId, out var problem))
        {
            return problem;
        }

        var recommendations = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Recommendations(customerId), "customers.recommendations", customerId,
            static (o, id, ct) => o.GetRecommendationsAsync(id, ct), cancellationToken);
        return recommendations is null ? Validation.NotFound("customer", customerId) : TypedResults.Ok(recommendations);
    }

    /// <summary>GET /api/orders/{id}</summary>
    public static async Task<Results<Ok<Order>, ProblemHttpResult>> GetOrder(
        string id, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var orderId, out var problem))
        {
            return problem;
        }

        var order = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Order(orderId), "orders.get", orderId,
            static (o, id, ct) => o.GetOrderAsync(id, ct), cancellationToken);
        return order is null ? Validation.NotFound("order", orderId) : TypedResults.Ok(order);
    }

    /// <summary>GET /api/inventory/{productId}</summary>
    public static async Task<Results<Ok<InventoryLevel>, ProblemHttpResult>> GetInventory(
        string productId, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(productId, "productId", out var id, out var problem))
        {
            return problem;
        }

        var level = await s.Cache.ReadAsync(
            s.Request, CacheEntries.Inventory(id), "inventory.get", id,
            static (o, id, ct) => o.GetInventoryAsync(id, ct), cancellationToken);
        return level is null ? Validation.NotFound("product", id) : TypedResults.Ok(level);
    }
}
