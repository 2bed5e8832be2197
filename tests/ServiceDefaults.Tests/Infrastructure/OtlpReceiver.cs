using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OptimizedCache.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP endpoint on a free loopback port that keeps what it receives at any path: the path
/// (<c>/v1/metrics</c>, <c>/v1/traces</c>, <c>/v1/logs</c>, or a full URL's own such as Prometheus'
/// <c>/api/v1/otlp/v1/metrics</c>), the API key header and the protobuf body.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<(string Path, string? ApiKey, byte[] Body)> Received { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver!.Received.Enqueue((context.Request.Path.Value!, context.Request.Headers["x-otlp-api-key"].ToString(), body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver = new OtlpReceiver(app, new Uri(address));
        return receiver;
    }

    public bool HasReceived(string path, string text) =>
        Received.Any(r => r.Path == path && System.Text.Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
