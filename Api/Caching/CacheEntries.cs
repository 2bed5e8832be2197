using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;

namespace OptimizedCache.Api.Caching;

/// <summary>
/// Keys, tags and base expirations of everything the API caches. The key's prefix is its data type
/// (the cache derives its TTL multiplier from it); tags are what <see cref="InvalidationOptions"/> rules name.
/// </summary>
public static class CacheEntries
{
    private static readonly HybridCacheEntryOptions Catalog = Expire(TimeSpan.FromMinutes(10));
    private static readonly HybridCacheEntryOptions Pages = Expire(TimeSpan.FromMinutes(5));
    private static readonly HybridCacheEntryOptions People = Expire(TimeSpan.FromMinutes(30));
    private static readonly HybridCacheEntryOptions Stock = Expire(TimeSpan.FromSeconds(30));
    private static readonly HybridCacheEntryOptions Summary = Expire(TimeSpan.FromSeconds(5));

    /// <summary>A product.</summary>
    public static CacheEntry Product(long id)
    {
        var key = "product:" + id.ToString(CultureInfo.InvariantCulture);
        return new(key, [key], Catalog);
    }

    /// <summary>A page of products.</summary>
    public static CacheEntry ProductPage(int page, int pageSize) =>
        new(string.Create(CultureInfo.InvariantCulture, $"products:{page}:{pageSize}"), ["catalog:products"], Pages);

    /// <summary>The collection list.</summary>
    public static CacheEntry Collections() => new("collections:all", ["catalog:collections"], Catalog);

    /// <summary>A collection with its first products.</summary>
    public static CacheEntry Collection(long id)
    {
        var key = "collection:" + id.ToString(CultureInfo.InvariantCulture);
        return new(key, [key, "catalog:collections"], Catalog);
    }

    /// <summary>A customer.</summary>
    public static CacheEntry Customer(long id)
    {
        var key = "customer:" + id.ToString(CultureInfo.InvariantCulture);
        return new(key, [key], People);
    }

    /// <summary>An order.</summary>
    public static CacheEntry Order(long id)
    {
        var key = "order:" + id.ToString(CultureInfo.InvariantCulture);
        return new(key, [key], People);
    }

    /// <summary>A customer's orders.</summary>
    public static CacheEntry CustomerOrders(long customerId)
    {
        var id = customerId.ToString(CultureInfo.InvariantCulture);
        return new("customer-orders:" + id, ["customer-orders:" + id, "customer:" + id], Pages);
    }

    /// <summary>A customer's recommendations.</summary>
    public static CacheEntry Recommendations(long customerId)
    {
        var id = customerId.ToString(CultureInfo.InvariantCulture);
        return new("recommendations:" + id, ["recommendations", "customer:" + id], Catalog);
    }

    /// <summary>A product's stock.</summary>
    public static CacheEntry Inventory(long productId)
    {
        var key = "inventory:" + productId.ToString(CultureInfo.InvariantCulture);
        return new(key, [key], Stock);
    }

    /// <summary>A low-risk summary (<c>health</c>, <c>metrics</c>, <c>logs</c>).</summary>
    public static CacheEntry StoreSummary(string name) => new("summary:" + name, ["store:summary"], Summary);

    private static HybridCacheEntryOptions Expire(TimeSpan expiration) =>
        new() { Expiration = expiration, LocalCacheExpiration = expiration };
}
