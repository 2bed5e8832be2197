using System.Text.Json;
using Microsoft.Extensions.Options;
using OptimizedCache.Api.Origin;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

public sealed class SimulatedStoreOriginTests
{
    private static SimulatedStoreOrigin Create(TimeProvider? time = null, Action<SimulatedOriginOptions>? configure = null)
    {
        var options = new SimulatedOriginOptions { LatencyMedianMs = 0, RateLimitBucketSize = 0 };
        configure?.Invoke(options);
        return new SimulatedStoreOrigin(Options.Create(options), time ?? TimeProvider.System);
    }

    [Fact]
    public async Task TheSameSeedGeneratesTheSameStoreAndAnotherSeedAnother()
    {
        var a = await Create().GetProductAsync(1234, CancellationToken.None);
        var b = await Create().GetProductAsync(1234, CancellationToken.None);
        var c = await Create(configure: o => o.Seed = 7).GetProductAsync(1234, CancellationToken.None);
        Assert.Equal(JsonSerializer.Serialize(a), JsonSerializer.Serialize(b));
        Assert.NotEqual(JsonSerializer.Serialize(a), JsonSerializer.Serialize(c));
    }

    [Fact]
    public async Task ProductsAreTwoToFourKibibytesOfJsonWithVariantsAndImages()
    {
        var origin = Create();
        var sizes = new List<int>();
        for (var id = 1; id <= 200; id++)
        {
            var product = (await origin.GetProductAsync(id, CancellationToken.None))!;
            Assert.InRange(product.Variants.Count, 2, 6);
            Assert.InRange(product.Images.Count, 2, 5);
            sizes.Add(JsonSerializer.SerializeToUtf8Bytes(product, JsonSerializerOptions.Web).Length);
        }

        Assert.InRange(sizes.Average(), 2048, 4096);
        Assert.InRange(sizes.Min(), 1024, 4096);
    }

    [Fact]
    public async Task TheLeakyBucketRefusesTheRequestThatWouldOverflowItAndAdmitsAgainAfterItDrains()
    {
        var time = new FakeTimeProvider();
        var origin = Create(time, o => { o.RateLimitBucketSize = 3; o.RateLimitLeakPerSecond = 2; });
        for (var i = 0; i < 3; i++)
        {
            await origin.GetProductAsync(1, CancellationToken.None);
        }

        var refused = await Assert.ThrowsAsync<StoreOriginException>(() => origin.GetProductAsync(1, CancellationToken.None).AsTask());
        Assert.Equal(OriginFailure.RateLimited, refused.Failure);
        Assert.Equal(TimeSpan.FromSeconds(0.5), refused.RetryAfter);
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.NotNull(await origin.GetProductAsync(1, CancellationToken.None));
    }

    [Fact]
    public async Task CreatedOrdersAreBoundedOldestFirst()
    {
        var origin = Create(configure: o => o.MaxCreatedOrders = 2);
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await origin.CreateOrderAsync(new NewOrder(1, [new NewOrderLine(1, 0 + 1)]), CancellationToken.None)).Id);
        }

        Assert.Null(await origin.GetOrderAsync(ids[0], CancellationToken.None));
        Assert.NotNull(await origin.GetOrderAsync(ids[2], CancellationToken.None));
    }

    [Fact]
    public void BehaviourOutOfRangeIsRefusedNamingTheValue()
    {
        var origin = Create();
        var error = Assert.Throws<ArgumentException>(() => origin.Behavior = origin.Behavior with { LatencySigma = 9 });
        Assert.Contains("latencySigma", error.Message, StringComparison.Ordinal);
    }
}
