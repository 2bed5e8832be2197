using System.Net.Http.Json;

namespace OptimizedCache.Api.Tests;

public sealed class OriginFailureTests
{
    [Theory]
    [InlineData("ServerError", 502)]
    [InlineData("Unavailable", 503)]
    [InlineData("RateLimited", 503)]
    public async Task InjectedOriginFailuresBecomeProblemDetails(string kind, int status)
    {
        await using var api = await ApiHost.StartAsync();
        await SetOriginAsync(api, errorRate: 1, errorKind: kind);
        using var response = await api.Client.GetAsync("/api/products/1");
        await response.AssertProblemAsync(status);
        Assert.Equal(kind == "RateLimited", response.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task TheLeakyBucketAnswers429WhichTheApiTurnsInto503WithRetryAfter()
    {
        await using var api = await ApiHost.StartAsync();
        await SetOriginAsync(api, bucket: 3, leakPerSecond: 0.01);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await api.Client.GetAsync($"/api/products/{i + 1}");
            Assert.True(ok.IsSuccessStatusCode);
        }

        using var limited = await api.Client.GetAsync("/api/products/4");
        await limited.AssertProblemAsync(503);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var stats = await (await api.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        Assert.Equal(1, stats.GetProperty("originCalls").GetProperty("rateLimited").GetInt64());
    }

    [Fact]
    public async Task OriginSettingsOutOfRangeAre400()
    {
        await using var api = await ApiHost.StartAsync();
        var current = (await (await api.Client.GetAsync("/admin/origin")).JsonAsync()).GetProperty("behavior");
        var body = System.Text.Json.Nodes.JsonNode.Parse(current.GetRawText())!;
        body["errorRate"] = 2;
        using var response = await api.Client.PutAsJsonAsync("/admin/origin", body);
        var problem = await response.AssertProblemAsync(400);
        Assert.Contains("errorRate", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task SetOriginAsync(ApiHost api, double errorRate = 0, string errorKind = "ServerError", int bucket = 0, double leakPerSecond = 1)
    {
        using var response = await api.Client.PutAsJsonAsync("/admin/origin", new
        {
            latencyMedianMs = 0,
            latencySigma = 0,
            latencyMaxMs = 0,
            rateLimitBucketSize = bucket,
            rateLimitLeakPerSecond = leakPerSecond,
            errorRate,
            errorKind,
        });
        response.EnsureSuccessStatusCode();
    }
}
