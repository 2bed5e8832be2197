using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OptimizedCache.Api.Telemetry;

namespace OptimizedCache.Api.Tests;

public sealed class AdminTests
{
    [Theory]
    [InlineData("GET", "/admin/rollout")]
    [InlineData("POST", "/admin/rollout/advance")]
    [InlineData("POST", "/admin/cache/clear")]
    [InlineData("GET", "/admin/cache/stats")]
    [InlineData("PUT", "/admin/origin")]
    public async Task AdminCallsWithoutAKeyAre401(string method, string path)
    {
        await using var api = await ApiHost.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { reason = "x" }) };
        using var response = await api.Anonymous.SendAsync(request);
        await response.AssertProblemAsync(401);
    }

    [Fact]
    public async Task AWrongKeyIs401AndChangesNothingAndTheKeyIsNeverLogged()
    {
        await using var api = await ApiHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/rollout/phase/3") { Content = JsonContent.Create(new { reason = "x" }) };
        request.Headers.Add("X-Api-Key", ApiHost.AdminKey + "x");
        using var response = await api.Anonymous.SendAsync(request);
        await response.AssertProblemAsync(401);

        var status = await (await api.Client.GetAsync("/admin/rollout")).JsonAsync();
        Assert.Equal(0, status.GetProperty("phase").GetInt32());
        var logs = api.Services.GetRequiredService<RecentLogs>().Latest(RecentLogs.Capacity);
        Assert.Contains(logs, l => l.Message.Contains("refused", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Message.Contains(ApiHost.AdminKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAConfiguredKeyTheAdminApiIsClosedNotOpen()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Admin:ApiKey"] = "" });
        using var response = await api.Client.GetAsync("/admin/rollout");
        await response.AssertProblemAsync(503);
    }

    [Fact]
    public async Task ClearingTheCacheNeedsAReasonAndMakesTheNextReadMiss()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        using (await api.Client.GetAsync("/api/collections/2"))
        {
        }

        Assert.Equal("HIT", (await api.Client.GetAsync("/api/collections/2")).CacheHeader());
        await (await api.Client.PostAsJsonAsync("/admin/cache/clear", new { reason = "" })).AssertProblemAsync(400);
        using var cleared = await api.Client.PostAsJsonAsync("/admin/cache/clear", new { reason = "drill" });
        cleared.EnsureSuccessStatusCode();
        Assert.Equal("MISS", (await api.Client.GetAsync("/api/collections/2")).CacheHeader());
    }

    [Fact]
    public async Task CacheStatsReportHitRatiosByGroup()
    {
        await using var api = await ApiHost.StartAsync();
        await api.SetPhaseAsync(3);
        for (var i = 0; i < 4; i++)
        {
            using (await api.Client.GetAsync("/api/customers/9"))
            {
            }
        }

        var reads = (await (await api.Client.GetAsync("/admin/cache/stats")).JsonAsync()).GetProperty("requests").GetProperty("reads");
        Assert.Equal(3, reads.GetProperty("hit").GetInt64());
        Assert.Equal(1, reads.GetProperty("miss").GetInt64());
        Assert.Equal(0.75, reads.GetProperty("hitRatio").GetDouble(), 3);
    }
}
