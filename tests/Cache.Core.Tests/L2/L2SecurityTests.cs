using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OptimizedCache.Cache.Core.Internal;
using OptimizedCache.Cache.Core.Tests.Internal;
using OptimizedCache.Cache.Core.Tests.Invalidation;
using OptimizedCache.Testing;
using StackExchange.Redis;

namespace OptimizedCache.Cache.Core.Tests.L2;

/// <summary>The cache's L2 against secured servers: a password, an ACL user, TLS; and what a wrong password does.</summary>
public sealed class L2SecurityTests
{
    private const string Password = "s3cret-Pa55-for-l2";

    private static readonly HybridCacheEntryOptions L2Only = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableLocalCacheWrite,
    };

    [Fact]
    public async Task WithThePasswordEntriesGoThroughL2()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = Password });
        await using var a = await L2Cache.StartAsync(server.ConnectionString, "sec");
        await using var b = await L2Cache.StartAsync(server.ConnectionString, "sec");

        await a.Cache.SetAsync("product:1", "v", L2Only);

        Assert.Equal("v", await b.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("origin"), L2Only));
        Assert.Equal(1, b.Cache.GetPerformanceStats().L2Hits);
    }

    [Fact]
    public async Task AWrongPasswordLeavesTheCacheOnL1AndTheOriginAndShowsThePasswordNowhere()
    {
        const string Wrong = "wrong-Guess-for-l2-123";
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Password = Password });
        var logs = new RecordingLogger();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new RecordingProvider(logs)));
        services.AddOptimizedHybridCache(o => o.RedisConnectionString = $"127.0.0.1:{server.Port},password={Wrong},connectTimeout=500");
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();

        Assert.Equal("origin", await cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("origin"), L2Only));
        await Replicas.WaitUntilAsync(() => cache.Redis!.Multiplexer is not null, "the connection attempt");
        var health = await provider.GetRequiredService<OptimizedHybridCacheHealthCheck>().CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.False(cache.Redis!.IsAvailable);
        string[] seen = [health.Description ?? "", .. health.Data.Values.Select(v => v.ToString() ?? ""), .. logs.Entries.Select(e => e.Message)];
        Assert.DoesNotContain(seen, s => s.Contains(Wrong, StringComparison.Ordinal) || s.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAclUserThatMayOnlyReadServesReadsAndItsRefusedWritesDoNotOpenTheCircuit()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions
        {
            AclUsers = ["user writer on >writer-pw ~* +@all", "user reader on >reader-pw ~* +@read +@connection +subscribe +info -@write -@scripting"],
        });
        await using var writer = await L2Cache.StartAsync($"127.0.0.1:{server.Port},user=writer,password=writer-pw", "acl");
        await using var reader = await L2Cache.StartAsync($"127.0.0.1:{server.Port},user=reader,password=reader-pw", "acl");
        await writer.Cache.SetAsync("product:1", "v", L2Only);

        for (var i = 0; i < 30; i++)
        {
            // each miss runs the factory and tries a write the server refuses (NOPERM): an answer, not an outage
            Assert.Equal("new", await reader.Cache.GetOrCreateAsync($"product:new{i}", _ => ValueTask.FromResult("new"), L2Only));
        }

        Assert.Equal("v", await reader.Cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("origin"), L2Only));
        Assert.Equal(L2CircuitState.Closed, reader.Cache.CircuitState);
    }

    [Fact]
    public async Task OverTlsWithTheServersCaEntriesGoThroughL2()
    {
        await using var server = await RedisServer.StartAsync(new RedisServerOptions { Tls = true });
        var services = new ServiceCollection();
        services.AddOptimizedHybridCache(o => o.ConnectionMultiplexerFactory = _ =>
        {
            var options = ConfigurationOptions.Parse($"localhost:{server.TlsPort},ssl=true,sslHost=localhost");
            options.TrustIssuer(server.CaCertificatePath);
            return ConnectionMultiplexer.Connect(options);
        });
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<OptimizedHybridCache>();
        await Replicas.WaitUntilAsync(() => cache.Redis!.IsAvailable, "the TLS connection", 15);

        await cache.SetAsync("product:1", "over tls", L2Only);

        Assert.Equal("over tls", await cache.GetOrCreateAsync("product:1", _ => ValueTask.FromResult("origin"), L2Only));
        Assert.Equal(1, cache.GetPerformanceStats().L2Hits);
    }

    private sealed class RecordingProvider(RecordingLogger logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
