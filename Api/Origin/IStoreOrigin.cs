namespace OptimizedCache.Api.Origin;

/// <summary>
/// The system of record the API fronts: slow, rate limited, occasionally failing. Reads return null for
/// ids the store does not know. Failures surface as <see cref="StoreOriginException"/> (the store could not
/// answer) or <see cref="StoreRejectedException"/> (the store refused this request).
/// </summary>
public interface IStoreOrigin
{
    /// <summary>The store's own health report.</summary>
    ValueTask<StoreStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>Store-wide counts and sales.</summary>
    ValueTask<StoreMetrics> GetMetricsAsync(CancellationToken cancellationToken);

    /// <summary>One page of products (1-based).</summary>
    ValueTask<ProductPage> GetProductsAsync(int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>A product, or null.</summary>
    ValueTask<Product?> GetProductAsync(long id, CancellationToken cancellationToken);

    /// <summary>Every collection.</summary>
    ValueTask<IReadOnlyList<CollectionSummary>> GetCollectionsAsync(CancellationToken cancellationToken);

    /// <summary>A collection with its first products, or null.</summary>
    ValueTask<Collection?> GetCollectionAsync(long id, CancellationToken cancellationToken);

    /// <summary>A customer, or null.</summary>
    ValueTask<Customer?> GetCustomerAsync(long id, CancellationToken cancellationToken);

    /// <summary>An order, or null.</summary>
    ValueTask<Order?> GetOrderAsync(long id, CancellationToken cancellationToken);

    /// <summary>A customer's orders, or null for an unknown customer.</summary>
    ValueTask<CustomerOrders?> GetCustomerOrdersAsync(long customerId, CancellationToken cancellationToken);

    /// <summary>Products recommended to a customer, or null for an unknown customer.</summary>
    ValueTask<Recommendations?> GetRecommendationsAsync(long customerId, CancellationToken cancellationToken);

    /// <summary>A product's stock, or null for an unknown product.</summary>
    ValueTask<InventoryLevel?> GetInventoryAsync(long productId, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="update"/>; null for an unknown product.</summary>
    ValueTask<Product?> UpdateProductAsync(long id, ProductUpdate update, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="delta"/> to the stock; null for an unknown product.</summary>
    ValueTask<InventoryLevel?> AdjustInventoryAsync(long productId, int delta, CancellationToken cancellationToken);

    /// <summary>Places an order, taking its items from stock.</summary>
    ValueTask<Order> CreateOrderAsync(NewOrder order, CancellationToken cancellationToken);
}
