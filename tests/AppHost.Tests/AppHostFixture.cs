using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Security.Cryptography;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// Starts the AppHost once for the test class, in the executables mode (redis-server and prometheus from PATH, the
/// services as projects), and waits until every resource reports healthy. The topology is the AppHost's own: the
/// tests describe none of it.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(4);

    /// <summary>The resources that must reach healthy (Grafana is not installed on the build machine).</summary>
    public static readonly string[] Resources = ["cache", "store", "api-1", "api-2", "monitoring", "prometheus"];

    /// <summary>The Api replicas, by resource name.</summary>
    public static readonly string[] Replicas = ["api-1", "api-2"];

    private DistributedApplication? _app;

    /// <summary>The admin key this run gives the AppHost's secret parameter.</summary>
    public string AdminApiKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The running application.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost did not start.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartupTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["AppHost:Containers=false"], timeout.Token);
        builder.Configuration["Parameters:admin-api-key"] = AdminApiKey;
        // resource logs go to the test output at Information otherwise: thousands of lines per run
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.Configuration["Parameters:rollout-initial-phase"] = "0";

        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var resource in Resources)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, WaitBehavior.StopOnResourceUnavailable, timeout.Token);
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
