using System.Security.Cryptography;

namespace OptimizedCache.AppHost.Tests;

/// <summary>
/// Starts the whole AppHost topology once for the test class (Redis, two Api replicas, Monitoring,
/// Prometheus, Grafana) and waits until every resource reports healthy. Does nothing where no container
/// runtime is available: the tests are skipped there.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(5);
    private static readonly string[] Resources = ["cache", "store", "prometheus", "api", "monitoring", "grafana"];

    private DistributedApplication? _app;

    /// <summary>The admin key this run gives the AppHost's secret parameter.</summary>
    public string AdminApiKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The running application.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost did not start.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        if (ContainerRuntime.UnavailableReason is not null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(StartupTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(timeout.Token);
        builder.Configuration["Parameters:admin-api-key"] = AdminApiKey;
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
