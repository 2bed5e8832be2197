using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace OptimizedCache.AppHost.Tests;

/// <summary>Starts the AppHost with containers, only where a container runtime answers.</summary>
public sealed class ContainersFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost did not start.");

    public async Task InitializeAsync()
    {
        if (ContainerRuntime.UnavailableReason is not null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["AppHost:Containers=true"], timeout.Token);
        builder.Configuration["Parameters:admin-api-key"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        // resource logs go to the test output at Information otherwise: thousands of lines per run
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("grafana", WaitBehavior.StopOnResourceUnavailable, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>What only the containers mode has on a machine without Grafana: the provisioned dashboards.</summary>
public sealed class ContainerTests(ContainersFixture fixture) : IClassFixture<ContainersFixture>
{
    [ContainerRuntimeFact]
    public async Task GrafanaIsHealthyAndServesTheProvisionedDashboards()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var grafana = fixture.App.CreateHttpClient("grafana", "http");

        var health = await grafana.GetFromJsonAsync<JsonElement>("/api/health", timeout.Token);
        // Anonymous viewers may search dashboards; an empty list would mean the provisioning is wrong.
        var dashboards = await grafana.GetFromJsonAsync<JsonElement>("/api/search?type=dash-db", timeout.Token);

        Assert.Equal("ok", health.GetProperty("database").GetString());
        Assert.NotEqual(0, dashboards.GetArrayLength());
    }
}
