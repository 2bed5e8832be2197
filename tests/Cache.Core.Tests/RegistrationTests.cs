using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OptimizedCache.Cache.Core.Tests;

/// <summary>Registration as HybridCache, and options validated at start-up with messages naming the bad value.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void RegistersOneInstanceAsItselfAndAsHybridCache()
    {
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache();
        using var provider = services.BuildServiceProvider();

        var hybrid = provider.GetRequiredService<HybridCache>();

        Assert.IsType<OptimizedHybridCache>(hybrid);
        Assert.Same(hybrid, provider.GetRequiredService<OptimizedHybridCache>());
    }

    [Theory]
    [InlineData("MaximumKeyLength", "0")]
    [InlineData("L1MemoryFraction", "1.5")]
    [InlineData("EagerRefreshThreshold", "0")]
    [InlineData("TopKeysCapacity", "0")]
    [InlineData("RemovalTombstoneWindow", "00:00:00.0100000")]
    [InlineData("MaximumRemovalTombstones", "8")]
    public async Task TheHostRefusesToStartWithAnInvalidSettingNamingIt(string setting, string value)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOptimizedHybridCache(o =>
        {
            switch (setting)
            {
                case "MaximumKeyLength": o.MaximumKeyLength = 0; break;
                case "L1MemoryFraction": o.L1MemoryFraction = 1.5; break;
                case "EagerRefreshThreshold": o.EagerRefreshThreshold = 0; break;
                case "TopKeysCapacity": o.TopKeysCapacity = 0; break;
                case "RemovalTombstoneWindow": o.RemovalTombstoneWindow = TimeSpan.FromMilliseconds(10); break;
                case "MaximumRemovalTombstones": o.MaximumRemovalTombstones = 8; break;
            }
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfiguredRedisConnectionEnablesL2WithoutWaitingForRedisAndAddsTheHealthCheck()
    {
        var services = new ServiceCollection();
        // nothing listens on port 1: building the cache must neither fail nor wait for it
        services.AddOptimizedHybridCache(o => o.RedisConnectionString = "127.0.0.1:1,connectTimeout=200");
        services.AddOptimizedHybridCache();
        await using var provider = services.BuildServiceProvider();

        var cache = Assert.IsType<OptimizedHybridCache>(provider.GetRequiredService<HybridCache>());
        Assert.True(cache.HasDistributedTier);
        Assert.Equal("v", await cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("v")));
        var checks = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Single(checks, r => r.Name == OptimizedHybridCacheHealthCheck.Name);
    }

    [Fact]
    public async Task AnInvalidRedisConnectionStringIsRefusedAtStartUp()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOptimizedHybridCache(o => o.RedisConnectionString = "127.0.0.1:6379,bogusOption=1");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("RedisConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("bogusOption", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:6379,password=s3cret-value,connectTimeout=soon", "connectTimeout")]
    [InlineData("password=s3cret-value,ssl=true", "names no endpoint")]
    [InlineData("127.0.0.1:6379,passwrd=s3cret-value", "passwrd")]
    public async Task AMalformedConnectionStringNamesTheOffendingPartAndNeverThePassword(string connectionString, string named)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOptimizedHybridCache(o => o.RedisConnectionString = connectionString);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AContainerMultiplexerAndAConnectionStringTogetherAreRefused()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOptimizedHybridCache(o => o.RedisConnectionString = "127.0.0.1:6379").UseConnectionMultiplexer();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("set one", error.Message, StringComparison.Ordinal);
    }
}
