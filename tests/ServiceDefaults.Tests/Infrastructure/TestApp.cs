using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// A small web application with the service defaults, on the in-memory test server or on Kestrel at a
/// free loopback port. OTLP is off unless a test sets the endpoint, whatever the machine's environment says.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app, HttpClient client, Uri baseAddress)
    {
        App = app;
        Client = client;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<TestApp> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null,
        bool kestrel = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TestApp).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders();
        var defaults = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
            ["OTEL_SERVICE_NAME"] = "",
            ["Telemetry:PrometheusOtlpEndpoint"] = "",
            ["ServiceDefaults:ScrapeCacheDuration"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(defaults);
        if (kestrel)
        {
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.AddServiceDefaults();
        configureBuilder?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        configureApp?.Invoke(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        if (kestrel)
        {
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            var baseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
            return new TestApp(app, new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) }, baseAddress);
        }

        var client = app.GetTestClient();
        return new TestApp(app, client, client.BaseAddress!);
    }

    public async Task<string> GetMetricsAsync()
    {
        using var response = await Client.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}: {body}");
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
