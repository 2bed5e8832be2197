using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OptimizedCache.Monitoring.Apis;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>Monitoring composed exactly as Program.cs composes it, on Kestrel on a free loopback port.</summary>
public sealed class MonitoringApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MonitoringApp(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The base URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for it.</summary>
    public HttpClient Http { get; }

    /// <summary>The app's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Builds and starts Monitoring with <paramref name="settings"/> over its defaults.</summary>
    public static async Task<MonitoringApp> StartAsync(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("MONITORING_TEST_LOGS") == "1")
        {
            builder.Logging.AddConsole();
        }

        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();

        app.UseControlPanel();
        app.MapStatusApi();
        app.MapDefaultEndpoints();

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MonitoringApp(app, new Uri(address + "/"));
    }

    /// <summary>Settings for a guard watching <paramref name="prometheus"/> and <paramref name="api"/> with short windows.</summary>
    public static Dictionary<string, string?> Settings(Uri prometheus, Uri api, string baselinePath, int windowSeconds = 10, int minimumRequests = 200) => new()
    {
        ["Monitoring:Prometheus"] = prometheus.ToString(),
        ["Monitoring:Api"] = api.ToString(),
        ["Monitoring:ApiKey"] = FakeAdminApi.Key,
        ["Monitoring:PrometheusTimeout"] = "00:00:03",
        ["Monitoring:ApiTimeout"] = "00:00:03",
        ["Monitoring:ScrapeInterval"] = "00:00:01",
        ["Monitoring:Guard:Interval"] = "00:00:01",
        ["Monitoring:Guard:Window"] = TimeSpan.FromSeconds(windowSeconds).ToString(),
        ["Monitoring:Guard:MinimumRequests"] = minimumRequests.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Monitoring:Guard:Cooldown"] = "01:00:00",
        ["Monitoring:Guard:BaselinePath"] = baselinePath,
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
