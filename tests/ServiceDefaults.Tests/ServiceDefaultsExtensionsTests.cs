using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OptimizedCache.ServiceDefaults.Internal;
using OptimizedCache.ServiceDefaults.Tests.Infrastructure;

namespace OptimizedCache.ServiceDefaults.Tests;

public sealed class ServiceDefaultsExtensionsTests
{
    [Fact]
    public async Task CallingAddServiceDefaultsTwiceRegistersEverythingOnce()
    {
        await using var app = await TestApp.StartAsync(configureBuilder: builder => builder.AddServiceDefaults());

        Assert.Single(app.Services.GetServices<MeterProvider>());
        Assert.Single(app.Services.GetServices<TracerProvider>());
        Assert.Single(app.Services.GetServices<IHostedService>().OfType<TelemetryLifetime>());
        using var alive = JsonDocument.Parse(await app.Client.GetStringAsync("/alive"));
        Assert.Equal(["self"], alive.RootElement.GetProperty("checks").EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task TheServiceNameComesFromOtelServiceNameWhenItIsSet()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "store-api" });

        var targetInfo = Assert.Single(Exposition.Samples(await app.GetMetricsAsync(), "target_info"));

        Assert.Equal("store-api", Exposition.Label(targetInfo, "service_name"));
    }
}
