using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;

namespace OptimizedCache.Api.Apis;

/// <summary>
/// Writes: each goes to the origin, then invalidates what depends on the change (the dependency rules in
/// <see cref="InvalidationOptions"/>), or, with write-through on, stores the new value.
/// </summary>
public static class WritesApi
{
    /// <summary>Largest description accepted, in characters.</summary>
    public const int MaxDescriptionLength = 20_000;

    /// <summary>Most lines in one order.</summary>
    public const int MaxOrderLines = 50;

    /// <summary>Maps the write endpoints under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapWritesApi(this IEndpointRouteBuilder app)
    {
        var writes = app.MapGroup("/api").WithCacheFlag(CacheGroup.Writes).WithTags("Writes")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        writes.MapPut("/products/{id}", UpdateProduct);
        writes.MapPost("/inventory/{productId}/adjust", AdjustInventory);
        writes.MapPost("/orders", CreateOrder);
        return app;
    }

    /// <summary>PUT /api/products/{id}</summary>
    public static async Task<Results<Ok<Product>, ProblemHttpResult>> UpdateProduct(
        string id, ProductUpdate? update, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(id, "id", out var productId, out var problem))
        {
            return problem;
        }

        if (Check(update) is { } bad)
        {
            return Validation.BadRequest(bad);
        }

        var product = await s.Cache.WriteAsync(
            s.Request, "products.update", (productId, update!), static (o, a, ct) => o.UpdateProductAsync(a.productId, a.Item2, ct), cancellationToken);
        if (product is null)
        {
            return Validation.NotFound("product", productId);
        }

        await s.Cache.AfterWriteAsync(
            s.Request,
            "product",
            new Dictionary<string, IReadOnlyList<string>>
            {
                ["id"] = [Text(productId)],
                ["collectionId"] = [.. product.CollectionIds.Select(Text)],
            },
            CacheEntries.Product(productId),
            product,
            cancellationToken);
        return TypedResults.Ok(product);
    }

    /// <summary>POST /api/inventory/{productId}/adjust</summary>
    public static async Task<Results<Ok<InventoryLevel>, ProblemHttpResult>> AdjustInventory(
        string productId, InventoryAdjustment? adjustment, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (!Validation.TryParseId(productId, "productId", out var id, out var problem))
        {
            return problem;
        }

        if (adjustment is null || adjustment.Delta == 0 || Math.Abs((long)adjustment.Delta) > 1_000_000)
        {
            return Validation.BadRequest($"delta must be a non-zero whole number from -1000000 to 1000000; got {adjustment?.Delta.ToString(CultureInfo.InvariantCulture) ?? "no body"}.");
        }

        var level = await s.Cache.WriteAsync(
            s.Request, "inventory.adjust", (id, adjustment.Delta), static (o, a, ct) => o.AdjustInventoryAsync(a.id, a.Delta, ct), cancellationToken);
        if (level is null)
        {
            return Validation.NotFound("product", id);
        }

        await s.Cache.AfterWriteAsync(
            s.Request, "inventory", new Dictionary<string, IReadOnlyList<string>> { ["productId"] = [Text(id)] },
            CacheEntries.Inventory(id), level, cancellationToken);
        return TypedResults.Ok(level);
    }

    /// <summary>POST /api/orders</summary>
    public static async Task<Results<Created<Order>, ProblemHttpResult>> CreateOrder(
        NewOrder? order, [AsParameters] StoreServices s, CancellationToken cancellationToken)
    {
        if (Check(order) is { } bad)
        {
            return Validation.BadRequest(bad);
        }

        var created = await s.Cache.WriteAsync(
            s.Request, "orders.create", order!, static (o, a, ct) => o.CreateOrderAsync(a, ct), cancellationToken);
        await s.Cache.AfterWriteAsync(
            s.Request,
            "order",
            new Dictionary<string, IReadOnlyList<string>>
            {
                ["id"] = [Text(created.Id)],
                ["customerId"] = [Text(created.CustomerId)],
                ["productId"] = [.. created.Lines.Select(l => Text(l.ProductId)).Distinct()],
            },
            CacheEntries.Order(created.Id),
            created,
            cancellationToken);
        return TypedResults.Created($"/api/orders/{created.Id}", created);
    }

    private static string? Check(ProductUpdate? update)
    {
        if (update is null || (update.Title, update.Description, update.Vendor, update.Price) is (null, null, null, null))
        {
            return "The body must set at least one of title, description, vendor, price.";
        }

        if (update.Title is { } title && (string.IsNullOrWhiteSpace(title) || title.Length > 255))
        {
            return $"title must be 1 to 255 characters; got {title.Length}.";
        }

        if (update.Description is { Length: > MaxDescriptionLength } description)
        {
            return $"description must be at most {MaxDescriptionLength} characters; got {description.Length}.";
        }

        if (update.Vendor is { } vendor && (string.IsNullOrWhiteSpace(vendor) || vendor.Length > 100))
        {
            return $"vendor must be 1 to 100 characters; got {vendor.Length}.";
        }

        return update.Price is { } price && (price <= 0 || price > 1_000_000)
            ? $"price must be above 0 and at most 1000000; got {price.ToString(CultureInfo.InvariantCulture)}."
            : null;
    }

    /// <summary>What is wrong with a new order (the Api and the store server check the same), or null.</summary>
    internal static string? Check(NewOrder? order)
    {
        if (order is null)
        {
            return "The body must be an order: { \"customerId\": …, \"lines\": [ { \"productId\": …, \"quantity\": … } ] }.";
        }

        if (order.CustomerId is <= 0 or > Validation.MaxId)
        {
            return $"customerId {order.CustomerId} is not an id.";
        }

        if (order.Lines is null || order.Lines.Count is 0 or > MaxOrderLines)
        {
            return $"lines must hold 1 to {MaxOrderLines} lines; got {order.Lines?.Count ?? 0}.";
        }

        for (var i = 0; i < order.Lines.Count; i++)
        {
            var line = order.Lines[i];
            if (line is null)
            {
                return $"lines[{i}] is null; each line is {{ \"productId\": …, \"quantity\": … }}.";
            }

            if (line.ProductId is <= 0 or > Validation.MaxId)
            {
                return $"lines[{i}].productId {line.ProductId} is not an id: expected a whole number from 1 to {Validation.MaxId}.";
            }

            if (line.Quantity is < 1 or > 1000)
            {
                return $"quantity {line.Quantity} of product {line.ProductId} must be 1 to 1000.";
            }
        }

        return null;
    }

    private static string Text(long id) => id.ToString(CultureInfo.InvariantCulture);
}
