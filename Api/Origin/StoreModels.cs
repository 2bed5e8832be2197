using System.ComponentModel;

namespace OptimizedCache.Api.Origin;

// The store's resources, shaped after Shopify's REST resources. They are immutable (sealed records with
// read-only lists, marked [ImmutableObject]) so a cache may hand the same instance to every reader.

/// <summary>A product with its variants and images.</summary>
[ImmutableObject(true)]
public sealed record Product(
    long Id,
    string Title,
    string Handle,
    string Description,
    string Vendor,
    string ProductType,
    IReadOnlyList<string> Tags,
    IReadOnlyList<ProductVariant> Variants,
    IReadOnlyList<ProductImage> Images,
    IReadOnlyList<long> CollectionIds,
    DateTimeOffset UpdatedAt,
    long Revision);

/// <summary>A purchasable variant of a product.</summary>
[ImmutableObject(true)]
public sealed record ProductVariant(long Id, string Title, string Sku, decimal Price, decimal? CompareAtPrice, int Grams, string Option1, string? Option2);

/// <summary>A product image.</summary>
[ImmutableObject(true)]
public sealed record ProductImage(long Id, string Src, string Alt, int Width, int Height);

/// <summary>A product as listed in pages, collections and recommendations.</summary>
[ImmutableObject(true)]
public sealed record ProductSummary(long Id, string Title, string Handle, decimal Price, string? ImageSrc);

/// <summary>One page of the product list.</summary>
[ImmutableObject(true)]
public sealed record ProductPage(int Page, int PageSize, int TotalCount, IReadOnlyList<ProductSummary> Items);

/// <summary>A collection as listed by the catalog.</summary>
[ImmutableObject(true)]
public sealed record CollectionSummary(long Id, string Title, string Handle, int ProductCount);

/// <summary>A collection with its first products.</summary>
[ImmutableObject(true)]
public sealed record Collection(long Id, string Title, string Handle, string Description, int ProductCount, IReadOnlyList<ProductSummary> Products);

/// <summary>A customer.</summary>
[ImmutableObject(true)]
public sealed record Customer(
    long Id, string Email, string FirstName, string LastName, string City, string Country,
    int OrdersCount, decimal TotalSpent, IReadOnlyList<string> Tags);

/// <summary>An order line.</summary>
[ImmutableObject(true)]
public sealed record OrderLine(long ProductId, long VariantId, int Quantity, decimal Price);

/// <summary>An order.</summary>
[ImmutableObject(true)]
public sealed record Order(long Id, long CustomerId, IReadOnlyList<OrderLine> Lines, decimal Total, string Currency, string Status, DateTimeOffset CreatedAt);

/// <summary>A customer's orders (newest first, bounded).</summary>
[ImmutableObject(true)]
public sealed record CustomerOrders(long CustomerId, int TotalCount, IReadOnlyList<Order> Orders);

/// <summary>Products recommended to a customer.</summary>
[ImmutableObject(true)]
public sealed record Recommendations(long CustomerId, IReadOnlyList<ProductSummary> Products);

/// <summary>A product's available stock.</summary>
[ImmutableObject(true)]
public sealed record InventoryLevel(long ProductId, int Available, DateTimeOffset UpdatedAt);

/// <summary>The store's health as its origin reports it.</summary>
[ImmutableObject(true)]
public sealed record StoreStatus(string Name, string Status, int Products, int Collections, int Customers, DateTimeOffset CheckedAt);

/// <summary>Store-wide figures (counts and sales).</summary>
[ImmutableObject(true)]
public sealed record StoreMetrics(int Products, int Customers, long Orders, int OrdersCreated, decimal RevenueCreated, long UnitsInStock, int ProductsUpdated, DateTimeOffset ComputedAt);

/// <summary>A change to a product; fields left null keep their value.</summary>
public sealed record ProductUpdate(string? Title, string? Description, string? Vendor, decimal? Price);

/// <summary>A stock adjustment (positive adds, negative removes).</summary>
public sealed record InventoryAdjustment(int Delta);

/// <summary>A new order.</summary>
public sealed record NewOrder(long CustomerId, IReadOnlyList<NewOrderLine>? Lines);

/// <summary>A line of a new order.</summary>
public sealed record NewOrderLine(long ProductId, int Quantity);
