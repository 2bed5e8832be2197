using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Api.Origin;

/// <summary>
/// A Shopify-like store held in process: a generated catalog (the same on every replica for a seed) with
/// the changes made through the API layered on top, log-normal latency, a leaky-bucket rate limit and
/// injected failures, all adjustable while running. A process holds one copy: replicas of one deployment
/// share it through the origin server role (<c>Origin:Role=Server</c>, <see cref="HttpStoreOrigin"/>), as
/// they would share one real store.
/// </summary>
public sealed class SimulatedStoreOrigin : IStoreOrigin, IOriginControl
{
    private const int CollectionPreviewSize = 50;
    private const int CustomerOrdersShown = 50;
    private const int RecommendationCount = 8;

    // Generated timestamps are relative to a fixed instant so every replica generates identical data.
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly CatalogGenerator _generator;
    private readonly TimeProvider _timeProvider;
    private readonly LeakyBucket _bucket;
    private readonly int _maxCreatedOrders;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentDictionary<long, Product> _updatedProducts = new();
    private readonly ConcurrentDictionary<long, int> _inventoryDeltas = new();
    private readonly ConcurrentDictionary<long, Order> _createdOrders = new();
    private readonly Dictionary<long, List<long>> _createdOrdersByCustomer = [];
    private readonly Queue<long> _createdOrderQueue = new();
    private long _nextOrderId;
    private long _unitsInStock = -1;
    private decimal _revenueCreated;
    private volatile OriginBehavior _behavior;

    /// <summary>Creates the store from its options.</summary>
    public SimulatedStoreOrigin(IOptions<SimulatedOriginOptions> options, TimeProvider timeProvider)
    {
        var o = options.Value;
        _generator = new CatalogGenerator(o.Seed, o.Products, o.Collections, o.Customers);
        _timeProvider = timeProvider;
        _bucket = new LeakyBucket(timeProvider);
        _maxCreatedOrders = o.MaxCreatedOrders;
        _behavior = o.ToBehavior();
        _nextOrderId = ((long)o.Customers + 1) * CatalogGenerator.OrderSlotsPerCustomer;
    }

    /// <summary>The current latency, rate-limit and error behaviour.</summary>
    public OriginBehavior Behavior
    {
        get => _behavior;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var problem = value.Validate();
            if (problem is not null)
            {
                throw new ArgumentException(problem, nameof(value));
            }

            _behavior = value;
        }
    }

    /// <summary>Requests currently in the rate-limit bucket.</summary>
    public double RateLimitLevel => _bucket.Level;

    /// <inheritdoc />
    public ValueTask<OriginStatus> GetOriginStatusAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OriginStatus(Behavior, RateLimitLevel));

    /// <inheritdoc />
    public ValueTask<OriginStatus> SetBehaviorAsync(OriginBehavior behavior, CancellationToken cancellationToken)
    {
        Behavior = behavior;
        return GetOriginStatusAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<StoreStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        var behavior = _behavior;
        return new StoreStatus(
            "OptimizedCache Demo Store", behavior.ErrorRate > 0 ? "degraded" : "ok",
            _generator.ProductCount, _generator.CollectionCount, _generator.CustomerCount, _timeProvider.GetUtcNow());
    }

    /// <inheritdoc />
    public async ValueTask<StoreMetrics> GetMetricsAsync(CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        lock (_writeLock)
        {
            long generatedOrders = 0;
            for (long c = 1; c <= _generator.CustomerCount; c++)
            {
                generatedOrders += _generator.GeneratedOrderCount(c);
            }

            return new StoreMetrics(
                _generator.ProductCount, _generator.CustomerCount, generatedOrders + _createdOrders.Count,
                _createdOrders.Count, _revenueCreated, UnitsInStock(), _updatedProducts.Count, _timeProvider.GetUtcNow());
        }
    }

    /// <inheritdoc />
    public async ValueTask<ProductPage> GetProductsAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        await SimulateCallAsync(cancellationToken);
        var first = ((long)(page - 1) * pageSize) + 1;
        var items = new List<ProductSummary>(pageSize);
        for (var id = first; id < first + pageSize && _generator.IsProduct(id); id++)
        {
            items.Add(Summary(CurrentProduct(id)));
        }

        return new ProductPage(page, pageSize, _generator.ProductCount, items);
    }

    /// <inheritdoc />
    public async ValueTask<Product?> GetProductAsync(long id, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        return _generator.IsProduct(id) ? CurrentProduct(id) : null;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<CollectionSummary>> GetCollectionsAsync(CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        var counts = new int[_generator.CollectionCount + 1];
        for (long id = 1; id <= _generator.ProductCount; id++)
        {
            foreach (var c in _generator.CollectionsOf(id))
            {
                counts[c]++;
            }
        }

        var result = new CollectionSummary[_generator.CollectionCount];
        for (var c = 1; c <= _generator.CollectionCount; c++)
        {
            var (title, handle, _) = _generator.CollectionInfo(c);
            result[c - 1] = new CollectionSummary(c, title, handle, counts[c]);
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<Collection?> GetCollectionAsync(long id, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsCollection(id))
        {
            return null;
        }

        var count = 0;
        var preview = new List<ProductSummary>(CollectionPreviewSize);
        for (long p = 1; p <= _generator.ProductCount; p++)
        {
            if (Array.IndexOf(_generator.CollectionsOf(p), id) < 0)
            {
                continue;
            }

            count++;
            if (preview.Count < CollectionPreviewSize)
            {
                preview.Add(Summary(CurrentProduct(p)));
            }
        }

        var (title, handle, description) = _generator.CollectionInfo(id);
        return new Collection(id, title, handle, description, count, preview);
    }

    /// <inheritdoc />
    public async ValueTask<Customer?> GetCustomerAsync(long id, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        return CurrentCustomer(id);
    }

    /// <inheritdoc />
    public async ValueTask<Order?> GetOrderAsync(long id, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        return FindOrder(id);
    }

    /// <inheritdoc />
    public async ValueTask<CustomerOrders?> GetCustomerOrdersAsync(long customerId, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsCustomer(customerId))
        {
            return null;
        }

        var orders = new List<Order>();
        lock (_writeLock)
        {
            if (_createdOrdersByCustomer.TryGetValue(customerId, out var created))
            {
                for (var i = created.Count - 1; i >= 0 && orders.Count < CustomerOrdersShown; i--)
                {
                    orders.Add(_createdOrders[created[i]]);
                }
            }
        }

        var generated = _generator.GeneratedOrderCount(customerId);
        for (var n = generated - 1; n >= 0 && orders.Count < CustomerOrdersShown; n--)
        {
            orders.Add(_generator.GeneratedOrder(customerId, n, Epoch));
        }

        return new CustomerOrders(customerId, generated + CreatedOrderCount(customerId), orders);
    }

    /// <inheritdoc />
    public async ValueTask<Recommendations?> GetRecommendationsAsync(long customerId, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsCustomer(customerId))
        {
            return null;
        }

        var products = _generator.RecommendedProductIds(customerId, RecommendationCount)
            .Distinct()
            .Select(id => Summary(CurrentProduct(id)))
            .ToArray();
        return new Recommendations(customerId, products);
    }

    /// <inheritdoc />
    public async ValueTask<InventoryLevel?> GetInventoryAsync(long productId, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        return _generator.IsProduct(productId) ? Inventory(productId) : null;
    }

    /// <inheritdoc />
    public async ValueTask<Product?> UpdateProductAsync(long id, ProductUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsProduct(id))
        {
            return null;
        }

        lock (_writeLock)
        {
            var current = CurrentProduct(id);
            var variants = update.Price is { } price
                ? current.Variants.Select((v, i) => v with { Price = price + (i * 2) }).ToArray()
                : current.Variants;
            var updated = current with
            {
                Title = update.Title ?? current.Title,
                Description = update.Description ?? current.Description,
                Vendor = update.Vendor ?? current.Vendor,
                Variants = variants,
                UpdatedAt = _timeProvider.GetUtcNow(),
                Revision = current.Revision + 1,
            };
            _updatedProducts[id] = updated;
            return updated;
        }
    }

    /// <inheritdoc />
    public async ValueTask<InventoryLevel?> AdjustInventoryAsync(long productId, int delta, CancellationToken cancellationToken)
    {
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsProduct(productId))
        {
            return null;
        }

        lock (_writeLock)
        {
            TakeStock(productId, -delta);
            return Inventory(productId);
        }
    }

    /// <inheritdoc />
    public async ValueTask<Order> CreateOrderAsync(NewOrder order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        await SimulateCallAsync(cancellationToken);
        if (!_generator.IsCustomer(order.CustomerId))
        {
            throw new StoreRejectedException(400, $"Customer {order.CustomerId} does not exist.");
        }

        var requested = order.Lines ?? [];
        foreach (var line in requested)
        {
            if (!_generator.IsProduct(line.ProductId))
            {
                throw new StoreRejectedException(400, $"Product {line.ProductId} does not exist.");
            }
        }

        lock (_writeLock)
        {
            foreach (var group in requested.GroupBy(l => l.ProductId))
            {
                var wanted = group.Sum(l => l.Quantity);
                if (Inventory(group.Key).Available < wanted)
                {
                    throw new StoreRejectedException(409, $"Product {group.Key} has fewer than {wanted} units in stock.");
                }
            }

            var lines = requested.Select(l =>
            {
                var product = CurrentProduct(l.ProductId);
                TakeStock(l.ProductId, l.Quantity);
                return new OrderLine(l.ProductId, product.Variants[0].Id, l.Quantity, product.Variants[0].Price);
            }).ToArray();
            var created = new Order(
                ++_nextOrderId, order.CustomerId, lines, lines.Sum(l => l.Price * l.Quantity), "JPY", "open",
                _timeProvider.GetUtcNow());
            _createdOrders[created.Id] = created;
            _revenueCreated += created.Total;
            if (!_createdOrdersByCustomer.TryGetValue(order.CustomerId, out var list))
            {
                _createdOrdersByCustomer[order.CustomerId] = list = [];
            }

            list.Add(created.Id);
            _createdOrderQueue.Enqueue(created.Id);
            while (_createdOrderQueue.Count > _maxCreatedOrders)
            {
                var oldest = _createdOrderQueue.Dequeue();
                if (_createdOrders.TryRemove(oldest, out var dropped))
                {
                    _createdOrdersByCustomer[dropped.CustomerId].Remove(oldest);
                }
            }

            return created;
        }
    }

    /// <summary>Who an order id belongs to, without a simulated call (for invalidation).</summary>
    internal Order? FindOrder(long id)
    {
        if (_createdOrders.TryGetValue(id, out var created))
        {
            return created;
        }

        var customer = id / CatalogGenerator.OrderSlotsPerCustomer;
        var n = (int)(id % CatalogGenerator.OrderSlotsPerCustomer);
        return _generator.IsCustomer(customer) && n < _generator.GeneratedOrderCount(customer)
            ? _generator.GeneratedOrder(customer, n, Epoch)
            : null;
    }

    private async ValueTask SimulateCallAsync(CancellationToken cancellationToken)
    {
        var behavior = _behavior;
        if (_bucket.TryAcquire(behavior.RateLimitBucketSize, behavior.RateLimitLeakPerSecond) is { } retryAfter)
        {
            throw new StoreOriginException(OriginFailure.RateLimited, "The store answered 429 Too Many Requests.", retryAfter);
        }

        if (behavior.LatencyMedianMs > 0)
        {
            // Log-normal: median × e^(σ·Z), Z standard normal (Box–Muller).
            var z = Math.Sqrt(-2 * Math.Log(1 - Random.Shared.NextDouble())) * Math.Cos(2 * Math.PI * Random.Shared.NextDouble());
            var ms = Math.Min(behavior.LatencyMaxMs, behavior.LatencyMedianMs * Math.Exp(behavior.LatencySigma * z));
            await Task.Delay(TimeSpan.FromMilliseconds(ms), _timeProvider, cancellationToken);
        }

        if (behavior.ErrorRate > 0 && Random.Shared.NextDouble() < behavior.ErrorRate)
        {
            throw behavior.ErrorKind switch
            {
                OriginFailure.RateLimited => new StoreOriginException(
                    OriginFailure.RateLimited, "The store answered 429 Too Many Requests (injected).", TimeSpan.FromSeconds(1)),
                OriginFailure.Unavailable => new StoreOriginException(OriginFailure.Unavailable, "The store did not answer (injected)."),
                _ => new StoreOriginException(OriginFailure.ServerError, "The store answered 500 Internal Server Error (injected)."),
            };
        }
    }

    private Product CurrentProduct(long id) =>
        _updatedProducts.TryGetValue(id, out var updated) ? updated : _generator.Product(id, Epoch);

    private Customer? CurrentCustomer(long id)
    {
        if (!_generator.IsCustomer(id))
        {
            return null;
        }

        int count;
        decimal spent = 0;
        lock (_writeLock)
        {
            _createdOrdersByCustomer.TryGetValue(id, out var created);
            count = created?.Count ?? 0;
            foreach (var orderId in created ?? [])
            {
                spent += _createdOrders[orderId].Total;
            }
        }

        return _generator.Customer(id, count, spent);
    }

    private int CreatedOrderCount(long customerId)
    {
        lock (_writeLock)
        {
            return _createdOrdersByCustomer.TryGetValue(customerId, out var created) ? created.Count : 0;
        }
    }

    private InventoryLevel Inventory(long productId) =>
        new(productId, _generator.BaseInventory(productId) + _inventoryDeltas.GetValueOrDefault(productId), _timeProvider.GetUtcNow());

    // Callers hold _writeLock.
    private void TakeStock(long productId, int quantity)
    {
        var available = Inventory(productId).Available;
        if (available - quantity < 0)
        {
            throw new StoreRejectedException(409, $"Product {productId} has {available} units in stock; cannot take {quantity}.");
        }

        if ((long)available - quantity > 1_000_000)
        {
            throw new StoreRejectedException(400, $"Product {productId} cannot hold more than 1000000 units.");
        }

        _inventoryDeltas[productId] = _inventoryDeltas.GetValueOrDefault(productId) - quantity;
        if (_unitsInStock >= 0)
        {
            _unitsInStock -= quantity;
        }
    }

    // Callers hold _writeLock.
    private long UnitsInStock()
    {
        if (_unitsInStock < 0)
        {
            long total = 0;
            for (long id = 1; id <= _generator.ProductCount; id++)
            {
                total += _generator.BaseInventory(id) + _inventoryDeltas.GetValueOrDefault(id);
            }

            _unitsInStock = total;
        }

        return _unitsInStock;
    }

    private static ProductSummary Summary(Product product) =>
        new(product.Id, product.Title, product.Handle, product.Variants[0].Price, product.Images.Count > 0 ? product.Images[0].Src : null);
}
