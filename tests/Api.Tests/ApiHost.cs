using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OptimizedCache.Api.Apis;
using OptimizedCache.Api.Origin;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// One Api instance on TestHost, composed as Program.cs composes it, with a fast origin (no latency, no
/// rate limit) unless a test says otherwise. Instances given the same <see cref="SimulatedStoreOrigin"/>
/// behave as replicas of one deployment.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-7f3a";

    private readonly WebApplication _app;

    private ApiHost(WebApplication app)
    {
        _app = app;
        Client = app.GetTestClient();
        Client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        Anonymous = app.GetTestClient();
    }

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient Client { get; }

    /// <summary>A client that sends no key.</summary>
    public HttpClient Anonymous { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ApiHost> StartAsync(
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var defaults = new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Origin:Products"] = "2000",
            ["Origin:Customers"] = "500",
            ["Origin:Collections"] = "20",
            ["Origin:LatencyMedianMs"] = "0",
            ["Origin:RateLimitBucketSize"] = "0",
            ["Rollout:SyncInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(defaults);
        configure?.Invoke(builder.Services);
        builder.AddApplicationServices();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCacheHeaderDefault();
        app.MapLowRiskApi();
        app.MapStoreApi();
        app.MapWritesApi();
        app.MapAdminApi();
        await app.StartAsync();
        return new ApiHost(app);
    }

    public async Task<int> SetPhaseAsync(int phase)
    {
        using var response = await Client.PostAsJsonAsync($"/admin/rollout/phase/{phase}", new { reason = "test setup" });
        response.EnsureSuccessStatusCode();
        return phase;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
