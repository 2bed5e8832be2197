using System.Net.Http.Json;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// Each group's flag at 0, 10 and 100 percent (seed 000's plan: phase 0 all 0; phase 1 reads, low-risk and
/// volatile reads 10; phase 2 writes 10; phase 3 all 100).
/// </summary>
public sealed class FeatureFlagTests
{
    // 10% of 2,000 requests: mean 200, standard deviation √(2000·0.1·0.9) ≈ 13.4. ±60 is about 4.5σ: a
    // correct implementation fails less than once in 100,000 runs, while 5% or 15% (100 or 300) is far outside.
    private const int Trials = 2000;
    private const int ExpectedAtTenPercent = 200;
    private const int Tolerance = 60;

    public static TheoryData<string, string, int, int> Cases => new()
    {
        { "GET", "/api/health-summary", 0, 0 },
        { "GET", "/api/health-summary", 1, 10 },
        { "GET", "/api/health-summary", 3, 100 },
        { "GET", "/api/products/7", 0, 0 },
        { "GET", "/api/products/7", 1, 10 },
        { "GET", "/api/products/7", 2, 100 },
        { "GET", "/api/inventory/7", 0, 0 },
        { "GET", "/api/inventory/7", 1, 10 },
        { "GET", "/api/inventory/7", 3, 100 },
        { "POST", "/api/inventory/7/adjust", 1, 0 },
        { "POST", "/api/inventory/7/adjust", 2, 10 },
        { "POST", "/api/inventory/7/adjust", 3, 100 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EachGroupTakesTheCachedPathForItsPercentageOfRequests(string method, string path, int phase, int percent)
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(phase);
        var trials = percent == 10 ? Trials : 200;
        var cached = 0;
        for (var i = 0; i < trials; i++)
        {
            using var response = method == "GET"
                ? await api.Client.GetAsync(path)
                : await api.Client.PostAsJsonAsync(path, new { delta = i % 2 == 0 ? 1 : -1 });
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode}");
            var header = response.CacheHeader();
            Assert.Contains(header, new[] { "HIT", "MISS", "BYPASS" });
            if (header != "BYPASS")
            {
                cached++;
            }
        }

        switch (percent)
        {
            case 0:
                Assert.Equal(0, cached);
                break;
            case 100:
                Assert.Equal(trials, cached);
                break;
            default:
                Assert.InRange(cached, ExpectedAtTenPercent - Tolerance, ExpectedAtTenPercent + Tolerance);
                break;
        }
    }

    [Fact]
    public async Task BypassedReadsNeverTouchTheCacheAndEachCallsTheOrigin()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using (await api.Client.GetAsync("/api/products/11"))
        {
        }

        await api.SetPhaseAsync(0);
        var before = await OriginCallsAsync(api);
        for (var i = 0; i < 20; i++)
        {
            using var response = await api.Client.GetAsync("/api/products/11");
            Assert.Equal("BYPASS", response.CacheHeader());
        }

        Assert.Equal(before.Bypass + 20, (await OriginCallsAsync(api)).Bypass);
    }

    [Fact]
    public async Task CachedReadsMissOnceThenHitWithoutCallingTheOriginAgain()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using (var first = await api.Client.GetAsync("/api/products/12"))
        {
            Assert.Equal("MISS", first.CacheHeader());
        }

        var after = await OriginCallsAsync(api);
        for (var i = 0; i < 10; i++)
        {
            using var response = await api.Client.GetAsync("/api/products/12");
            Assert.Equal("HIT", response.CacheHeader());
        }

        Assert.Equal(after.Cached, (await OriginCallsAsync(api)).Cached);
    }

    private static async Task<(long Cached, long Bypass)> OriginCallsAsync(ApiHost api)
    {
        var stats = await (await api.Client.GetAsync("/admin/cache/stats")).JsonAsync();
        var origin = stats.GetProperty("originCalls");
        return (origin.GetProperty("cached").GetInt64(), origin.GetProperty("bypass").GetInt64());
    }
}
