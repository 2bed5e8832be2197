using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;

namespace OptimizedCache.ServiceDefaults.Tests;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task AliveAndHealthAnswer200WithEveryCheckDescribedWhenAllAreHealthy()
    {
        await using var app = await StartWithChecksAsync(HealthStatus.Healthy);

        var (aliveStatus, alive) = await GetJsonAsync(app, "/alive");
        var (healthStatus, health) = await GetJsonAsync(app, "/health");

        Assert.Equal(HttpStatusCode.OK, aliveStatus);
        Assert.Equal("Healthy", alive.GetProperty("status").GetString());
        Assert.Equal(["self"], alive.GetProperty("checks").EnumerateObject().Select(c => c.Name));
        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal(["self", "redis"], health.GetProperty("checks").EnumerateObject().Select(c => c.Name));
        var redis = health.GetProperty("checks").GetProperty("redis");
        Assert.Equal("Healthy", redis.GetProperty("status").GetString());
        Assert.Equal("Redis said Healthy.", redis.GetProperty("description").GetString());
        Assert.True(redis.GetProperty("durationSeconds").GetDouble() >= 0);
        Assert.Equal("closed", redis.GetProperty("data").GetProperty("circuit").GetString());
    }

    [Fact]
    public async Task HealthAnswers503WhenACheckIsUnhealthyWhileAliveStays200()
    {
        await using var app = await StartWithChecksAsync(HealthStatus.Unhealthy);

        var (healthStatus, health) = await GetJsonAsync(app, "/health");
        var (aliveStatus, _) = await GetJsonAsync(app, "/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthStatus);
        Assert.Equal("Unhealthy", health.GetProperty("status").GetString());
        var redis = health.GetProperty("checks").GetProperty("redis");
        Assert.Equal("Unhealthy", redis.GetProperty("status").GetString());
        Assert.Equal(typeof(TimeoutException).FullName, redis.GetProperty("error").GetString());
        Assert.DoesNotContain("secret-host", health.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, aliveStatus);
    }

    [Fact]
    public async Task AliveAnswers503WhenALiveCheckFails()
    {
        await using var app = await TestApp.StartAsync(configureBuilder: builder => builder.Services.AddHealthChecks()
            .AddCheck("deadlock", () => HealthCheckResult.Unhealthy("Worker stuck."), [ServiceDefaultsExtensions.LiveTag]));

        var (aliveStatus, alive) = await GetJsonAsync(app, "/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, aliveStatus);
        Assert.Equal("Worker stuck.", alive.GetProperty("checks").GetProperty("deadlock").GetProperty("description").GetString());
    }

    [Fact]
    public async Task ADegradedCheckKeepsHealthAt200()
    {
        await using var app = await StartWithChecksAsync(HealthStatus.Degraded);

        var (healthStatus, health) = await GetJsonAsync(app, "/health");

        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
    }

    private static Task<TestApp> StartWithChecksAsync(HealthStatus redisStatus) =>
        TestApp.StartAsync(configureBuilder: builder => builder.Services.AddHealthChecks()
            .AddCheck("redis", () => new HealthCheckResult(
                redisStatus,
                $"Redis said {redisStatus}.",
                redisStatus == HealthStatus.Unhealthy ? new TimeoutException("connect to secret-host:6379 timed out") : null,
                new Dictionary<string, object> { ["circuit"] = "closed" })));

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(TestApp app, string path)
    {
        using var response = await app.Client.GetAsync(path);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body);
    }
}
