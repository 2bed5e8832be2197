using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OptimizedCache.Api.Apis;

namespace OptimizedCache.Api.Tests;

/// <summary>
/// The Api in the origin server role (<c>Origin:Role=Server</c>) on Kestrel at a free loopback port,
/// composed as Program.cs composes that role: one store for the <see cref="ApiHost"/> replicas pointed at it.
/// </summary>
public sealed class OriginServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OriginServerHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client without the admin key.</summary>
    public HttpClient Client { get; }

    /// <summary>Settings that point an <see cref="ApiHost"/> at this origin.</summary>
    public Dictionary<string, string?> ReplicaSettings(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Origin:BaseUrl"] = BaseAddress.ToString() };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<OriginServerHost> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Origin:Role"] = "Server",
            ["Admin:ApiKey"] = ApiHost.AdminKey,
            ["Origin:Products"] = "2000",
            ["Origin:Customers"] = "500",
            ["Origin:Collections"] = "20",
            ["Origin:LatencyMedianMs"] = "0",
            ["Origin:RateLimitBucketSize"] = "0",
        });
        Assert.True(builder.Configuration.IsOriginServer());
        builder.AddServiceDefaults();
        builder.AddOriginServerServices();
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOriginServerApi();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new OriginServerHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
