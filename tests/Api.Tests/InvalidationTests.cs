using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;

namespace OptimizedCache.Api.Tests;

public sealed class InvalidationTests
{
    [Theory]
    [InlineData(3)] // writes cached, write-through on
    [InlineData(2)] // reads cached, writes mostly bypass: invalidation must still happen
    public async Task AReadAfterAProductUpdateReturnsTheNewValueEverywhereItAppears(int phase)
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(phase);
        var product = await (await api.Client.GetAsync("/api/products/21")).JsonAsync();
        var collectionId = product.GetProperty("collectionIds")[0].GetInt64();
        await WarmAsync(api, "/api/products/21", $"/api/collections/{collectionId}", "/api/products?page=1&pageSize=50");

        using var update = await api.Client.PutAsJsonAsync("/api/products/21", new { title = "Renamed Lamp", price = 12.5m });
        update.EnsureSuccessStatusCode();

        var read = await (await api.Client.GetAsync("/api/products/21")).JsonAsync();
        Assert.Equal("Renamed Lamp", read.GetProperty("title").GetString());
        Assert.Equal(12.5m, read.GetProperty("variants")[0].GetProperty("price").GetDecimal());
        var collection = await (await api.Client.GetAsync($"/api/collections/{collectionId}")).JsonAsync();
        Assert.Contains(collection.GetProperty("products").EnumerateArray(), p => p.GetProperty("title").GetString() == "Renamed Lamp");
        var page = await (await api.Client.GetAsync("/api/products?page=1&pageSize=50")).JsonAsync();
        Assert.Contains(page.GetProperty("items").EnumerateArray(), p => p.GetProperty("title").GetString() == "Renamed Lamp");
    }

    [Fact]
    public async Task ConfiguredRulesAreTheCachesDependencyRules()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["Invalidation:Rules:inventory:0"] = "inventory:{productId}",
            ["Invalidation:Rules:inventory:1"] = "stock-report",
        });
        var cache = api.Services.GetRequiredService<OptimizedCache.Cache.Core.OptimizedHybridCache>();

        var values = new Dictionary<string, IReadOnlyList<string>> { ["productId"] = ["30"] };
        Assert.Equal(["inventory:30", "stock-report"], cache.GetDependentTags("inventory", values));
        // entities the configuration does not name keep their default rule
        Assert.Contains("catalog:products", cache.GetDependentTags("product", new Dictionary<string, IReadOnlyList<string>>
        {
            ["id"] = ["1"],
            ["collectionId"] = [],
        }));
    }

    [Fact]
    public async Task WriteThroughServesTheWrittenProductAsAHit()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        await WarmAsync(api, "/api/products/22");
        using (var update = await api.Client.PutAsJsonAsync("/api/products/22", new { vendor = "Contoso Ltd" }))
        {
            Assert.Equal("MISS", update.CacheHeader());
        }

        using var read = await api.Client.GetAsync("/api/products/22");
        Assert.Equal("HIT", read.CacheHeader());
        Assert.Equal("Contoso Ltd", (await read.JsonAsync()).GetProperty("vendor").GetString());
    }

    [Fact]
    public async Task AnInventoryAdjustmentIsVisibleToTheNextRead()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        var before = (await (await api.Client.GetAsync("/api/inventory/30")).JsonAsync()).GetProperty("available").GetInt32();
        await WarmAsync(api, "/api/inventory/30");
        using (await api.Client.PostAsJsonAsync("/api/inventory/30/adjust", new { delta = 7 }))
        {
        }

        var after = (await (await api.Client.GetAsync("/api/inventory/30")).JsonAsync()).GetProperty("available").GetInt32();
        Assert.Equal(before + 7, after);
    }

    [Fact]
    public async Task ANewOrderInvalidatesTheCustomerTheirOrdersAndTheStockItTook()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(2);
        var customer = await (await api.Client.GetAsync("/api/customers/40")).JsonAsync();
        var orders = await (await api.Client.GetAsync("/api/customers/40/orders")).JsonAsync();
        var stock = (await (await api.Client.GetAsync("/api/inventory/31")).JsonAsync()).GetProperty("available").GetInt32();
        if (stock < 2)
        {
            using (await api.Client.PostAsJsonAsync("/api/inventory/31/adjust", new { delta = 10 }))
            {
            }

            stock += 10;
        }

        using var created = await api.Client.PostAsJsonAsync("/api/orders", new { customerId = 40, lines = new[] { new { productId = 31, quantity = 2 } } });
        Assert.Equal(201, (int)created.StatusCode);
        var order = await created.JsonAsync();
        var orderId = order.GetProperty("id").GetInt64();
        Assert.Equal($"/api/orders/{orderId}", created.Headers.Location?.ToString());

        var customerAfter = await (await api.Client.GetAsync("/api/customers/40")).JsonAsync();
        Assert.Equal(customer.GetProperty("ordersCount").GetInt32() + 1, customerAfter.GetProperty("ordersCount").GetInt32());
        var ordersAfter = await (await api.Client.GetAsync("/api/customers/40/orders")).JsonAsync();
        Assert.Equal(orders.GetProperty("totalCount").GetInt32() + 1, ordersAfter.GetProperty("totalCount").GetInt32());
        Assert.Equal(orderId, ordersAfter.GetProperty("orders")[0].GetProperty("id").GetInt64());
        Assert.Equal(stock - 2, (await (await api.Client.GetAsync("/api/inventory/31")).JsonAsync()).GetProperty("available").GetInt32());
        Assert.Equal(JsonValueKind.Object, (await (await api.Client.GetAsync($"/api/orders/{orderId}")).JsonAsync()).ValueKind);
    }

    private static async Task WarmAsync(ApiHost api, params string[] paths)
    {
        foreach (var path in paths)
        {
            using (await api.Client.GetAsync(path))
            {
            }

            using var again = await api.Client.GetAsync(path);
            Assert.Equal("HIT", again.CacheHeader());
        }
    }
}
