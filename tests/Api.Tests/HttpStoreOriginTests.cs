using System.Net.Http.Json;
using OptimizedCache.Testing;

namespace OptimizedCache.Api.Tests;

/// <summary>Api replicas over one origin server (<c>Origin:BaseUrl</c>), as a deployment shares one store.</summary>
public sealed class HttpStoreOriginTests
{
    [Fact]
    public async Task AWriteThroughOneReplicaIsReadBackThroughAnotherFromTheSharedOrigin()
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var a = await ApiHost.StartAsync(origin.ReplicaSettings());
        await using var b = await ApiHost.StartAsync(origin.ReplicaSettings());

        // Phase 0: no cache anywhere, so what B reads can only come from the origin A wrote to.
        using (var update = await a.Client.PutAsJsonAsync("/api/products/21", new { title = "Shared Lamp", price = 19.5m }))
        {
            Assert.Equal(200, (int)update.StatusCode);
            Assert.Equal("BYPASS", update.CacheHeader());
        }

        using var read = await b.Client.GetAsync("/api/products/21");
        Assert.Equal(200, (int)read.StatusCode);
        Assert.Equal("BYPASS", read.CacheHeader());
        var product = await read.JsonAsync();
        Assert.Equal("Shared Lamp", product.GetProperty("title").GetString());
        Assert.Equal(19.5m, product.GetProperty("variants")[0].GetProperty("price").GetDecimal());
        Assert.Equal(2, product.GetProperty("revision").GetInt64());

        using (await a.Client.PostAsJsonAsync("/api/inventory/30/adjust", new { delta = 5 }))
        {
        }

        var stockOnOrigin = await (await origin.Client.GetAsync("/origin/inventory/30")).JsonAsync();
        var stockThroughB = await (await b.Client.GetAsync("/api/inventory/30")).JsonAsync();
        Assert.Equal(stockOnOrigin.GetProperty("available").GetInt32(), stockThroughB.GetProperty("available").GetInt32());

        var stats = await (await b.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        Assert.Equal(2, stats.GetProperty("originCalls").GetProperty("bypass").GetInt64());
    }

    [Fact]
    public async Task UnknownIdsAreNotFoundAndRefusalsKeepTheirStatusThroughTheHttpOrigin()
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var api = await ApiHost.StartAsync(origin.ReplicaSettings());

        using var missing = await api.Client.GetAsync("/api/products/999999");
        await missing.AssertProblemAsync(404);
        var stock = (await (await api.Client.GetAsync("/api/inventory/31")).JsonAsync()).GetProperty("available").GetInt32();
        if (stock >= 1000)
        {
            using (await api.Client.PostAsJsonAsync("/api/inventory/31/adjust", new { delta = 999 - stock }))
            {
            }
        }

        using var tooMany = await api.Client.PostAsJsonAsync("/api/orders", new { customerId = 40, lines = new[] { new { productId = 31, quantity = 1000 } } });
        var problem = await tooMany.AssertProblemAsync(409);
        Assert.Contains("31", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var created = await api.Client.PostAsJsonAsync("/api/orders", new { customerId = 40, lines = new[] { new { productId = 31, quantity = 1 } } });
        Assert.Equal(201, (int)created.StatusCode);
    }

    [Fact]
    public async Task TheSharedOriginsLeakyBucketAnswers429WhichEveryReplicaCountsAsRateLimited()
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var a = await ApiHost.StartAsync(origin.ReplicaSettings());
        await using var b = await ApiHost.StartAsync(origin.ReplicaSettings());
        var status = await SetOriginAsync(a, bucket: 3, leakPerSecond: 0.01);
        Assert.Equal("shared", status.GetProperty("location").GetString());

        for (var i = 1; i <= 3; i++)
        {
            using var ok = await (i % 2 == 0 ? b : a).Client.GetAsync($"/api/products/{i}");
            Assert.Equal(200, (int)ok.StatusCode);
        }

        // The bucket is the origin's, not a replica's: B's fourth call finds it full after A and B filled it.
        using var limited = await b.Client.GetAsync("/api/products/4");
        await limited.AssertProblemAsync(503);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
        var stats = await (await b.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        Assert.Equal(1, stats.GetProperty("originCalls").GetProperty("rateLimited").GetInt64());
        Assert.Equal(0, stats.GetProperty("originCalls").GetProperty("errors").GetInt64());
    }

    [Theory]
    [InlineData("ServerError", 502)]
    [InlineData("Unavailable", 503)]
    public async Task TheOriginServersFailuresBecomeTheSameProblemDetailsAsAnEmbeddedStores(string kind, int status)
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var api = await ApiHost.StartAsync(origin.ReplicaSettings());
        await SetOriginAsync(api, errorRate: 1, errorKind: kind);

        using var response = await api.Client.GetAsync("/api/products/1");
        await response.AssertProblemAsync(status);
        var stats = await (await api.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        Assert.Equal(1, stats.GetProperty("originCalls").GetProperty("errors").GetInt64());
        Assert.Equal(0, stats.GetProperty("originCalls").GetProperty("rateLimited").GetInt64());
    }

    [Fact]
    public async Task AnOriginNobodyListensOnIsUnavailableAndCounted()
    {
        var closedPort = ServerProcess.FreePort();
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Origin:BaseUrl"] = $"http://127.0.0.1:{closedPort}/" });

        using var response = await api.Client.GetAsync("/api/products/1");
        var problem = await response.AssertProblemAsync(503);
        Assert.Equal("Store unavailable", problem.GetProperty("title").GetString());
        using var admin = await api.Client.GetAsync("/admin/origin");
        await admin.AssertProblemAsync(503);
        var stats = await (await api.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        Assert.Equal(1, stats.GetProperty("originCalls").GetProperty("errors").GetInt64());
    }

    [Fact]
    public async Task AnOriginSlowerThanTheTimeoutIsUnavailable()
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var api = await ApiHost.StartAsync(origin.ReplicaSettings(("Origin:Timeout", "00:00:00.300")));

        // Straight on the origin server: through the replica this change would itself time out.
        using var change = new HttpRequestMessage(HttpMethod.Put, "/origin/behavior")
        {
            Content = JsonContent.Create(new
            {
                latencyMedianMs = 3_000, latencySigma = 0, latencyMaxMs = 3_000, rateLimitBucketSize = 0, rateLimitLeakPerSecond = 1,
                errorRate = 0, errorKind = "ServerError",
            }),
        };
        change.Headers.Add("X-Api-Key", ApiHost.AdminKey);
        Assert.Equal(200, (int)(await origin.Client.SendAsync(change)).StatusCode);

        using var response = await api.Client.GetAsync("/api/products/1");
        var problem = await response.AssertProblemAsync(503);
        Assert.Equal("Store unavailable", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AdminOriginSaysWhetherTheStoreIsEmbeddedOrShared()
    {
        await using var origin = await OriginServerHost.StartAsync();
        await using var shared = await ApiHost.StartAsync(origin.ReplicaSettings());
        await using var embedded = await ApiHost.StartAsync();

        var sharedStatus = await (await shared.Client.GetAsync("/admin/origin")).JsonAsync();
        Assert.Equal("shared", sharedStatus.GetProperty("location").GetString());
        Assert.Equal(origin.BaseAddress, new Uri(sharedStatus.GetProperty("url").GetString()!));
        var embeddedStatus = await (await embedded.Client.GetAsync("/admin/origin")).JsonAsync();
        Assert.Equal("embedded", embeddedStatus.GetProperty("location").GetString());
    }

    [Fact]
    public async Task TheOriginServerServesTheStoreAndNothingElse()
    {
        await using var origin = await OriginServerHost.StartAsync();

        Assert.Equal(200, (int)(await origin.Client.GetAsync("/origin/products/1")).StatusCode);
        Assert.Equal(404, (int)(await origin.Client.GetAsync("/origin/products/999999")).StatusCode);
        Assert.Equal(404, (int)(await origin.Client.GetAsync("/api/products/1")).StatusCode);
        Assert.Equal(404, (int)(await origin.Client.GetAsync("/admin/rollout")).StatusCode);
        Assert.Equal(401, (int)(await origin.Client.GetAsync("/origin/behavior")).StatusCode);
        Assert.Equal(200, (int)(await origin.Client.GetAsync("/health")).StatusCode);
    }

    private static async Task<System.Text.Json.JsonElement> SetOriginAsync(
        ApiHost api, double errorRate = 0, string errorKind = "ServerError", int bucket = 0, double leakPerSecond = 1, double latencyMs = 0)
    {
        using var response = await api.Client.PutAsJsonAsync("/admin/origin", new
        {
            latencyMedianMs = latencyMs,
            latencySigma = 0,
            latencyMaxMs = latencyMs,
            rateLimitBucketSize = bucket,
            rateLimitLeakPerSecond = leakPerSecond,
            errorRate,
            errorKind,
        });
        Assert.Equal(200, (int)response.StatusCode);
        return await response.JsonAsync();
    }
}
