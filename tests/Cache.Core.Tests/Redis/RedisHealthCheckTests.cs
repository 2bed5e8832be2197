using Microsoft.Extensions.Diagnostics.HealthChecks;
using OptimizedCache.Cache.Core.Redis;
using OptimizedCache.Testing;

namespace OptimizedCache.Cache.Core.Tests.Redis;

public sealed class RedisHealthCheckTests
{
    [Fact]
    public async Task IsHealthyWithTheLatencyWhileConnectedAndUnhealthyOnceTheServerIsGone()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",reconnectMinDelay=5000,reconnectMaxDelay=5000");
        var check = new RedisHealthCheck(client, TimeSpan.FromSeconds(5));
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) };
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionFailed += (_, _) => failed.TrySetResult();

        var healthy = await check.CheckHealthAsync(context);
        server.Kill();
        await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var unhealthy = await check.CheckHealthAsync(context);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.IsType<double>(healthy.Data["latency_ms"]);
        Assert.Equal("Connected", healthy.Data["state"]);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Equal("Disconnected", unhealthy.Data["state"]);
    }

    [Fact]
    public async Task IsDegradedWhenPingIsSlowerThanTheThreshold()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var check = new RedisHealthCheck(client, TimeSpan.FromMilliseconds(50));
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) };

        // A PING queued behind a 300 ms DEBUG SLEEP on the same connection answers late.
        var sleep = client.ExecuteAsync("DEBUG", ["SLEEP", "0.3"]);
        var result = await check.CheckHealthAsync(context);
        await sleep;

        Assert.Equal(HealthStatus.Degraded, result.Status);
    }
}
