using System.Net.Http.Json;
using System.Text.Json;
using OptimizedCache.Monitoring.Tests.Support;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// The AppHost settings the live system is started with reach the parts they name: <c>AppHost:Environment:store:*</c>
/// the shared origin, <c>AppHost:Environment:monitoring:*</c> the guard, <c>AppHost:ScrapeInterval</c> Prometheus.
/// </summary>
[Collection(nameof(LiveSystemCollection))]
public sealed class LiveSystemLauncherTests(LiveSystemFixture system)
{
    [Fact]
    public async Task ExtraEnvironmentAndTheScrapeIntervalReachThePartsTheyName()
    {
        var guard = (await system.GuardStatusAsync()).GetProperty("guard");
        Assert.Equal(LiveSystemFixture.Window.TotalSeconds, guard.GetProperty("windowSeconds").GetDouble());
        Assert.Equal(LiveSystemFixture.Interval.TotalSeconds, guard.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal(LiveSystemFixture.MinimumRequests, guard.GetProperty("minimumRequests").GetInt32());

        // The shared origin took its latency from AppHost:Environment:store; the replica reads it from there.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(system.Api2, "/admin/origin"));
        request.Headers.Add("X-Api-Key", system.AdminKey);
        using var response = await system.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var origin = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("shared", origin.GetProperty("location").GetString());
        Assert.Equal(40, origin.GetProperty("behavior").GetProperty("latencyMedianMs").GetDouble());

        var config = await system.Http.GetFromJsonAsync<JsonElement>(new Uri(system.Prometheus, "/api/v1/status/config"));
        var yaml = config.GetProperty("data").GetProperty("yaml").GetString()!;
        Assert.Contains($"scrape_interval: {LiveSystemFixture.ScrapeIntervalSeconds}s", yaml, StringComparison.Ordinal);
        Assert.Contains($"evaluation_interval: {LiveSystemFixture.ScrapeIntervalSeconds}s", yaml, StringComparison.Ordinal);
    }
}
