using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// Serves <c>/metrics</c>. One collection runs at a time; scrapes that arrive while it runs, or within
/// <see cref="ServiceDefaultsOptions.ScrapeCacheDuration"/> after it, get its result, so any number of
/// concurrent scrapers costs one collection per window. Only the last rendering is kept.
/// </summary>
internal sealed class PrometheusScrapeEndpoint
{
    private const int CollectTimeoutMilliseconds = 10_000;

    private readonly IOptionsMonitor<ServiceDefaultsOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _collecting = new(1, 1);
    private CachedScrape? _cached;

    public PrometheusScrapeEndpoint(IOptionsMonitor<ServiceDefaultsOptions> options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _options = options;
        _timeProvider = timeProvider;
        Exporter = new PrometheusExporter(loggerFactory.CreateLogger<PrometheusExporter>());
    }

    /// <summary>The exporter the meter provider's pull reader feeds.</summary>
    public PrometheusExporter Exporter { get; }

    /// <summary>The endpoint's request delegate.</summary>
    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;

        // Resolving the provider builds it if the host has not yet; without it nothing is collected.
        _ = services.GetRequiredService<MeterProvider>();
        var body = await services.GetRequiredService<PrometheusScrapeEndpoint>().ScrapeAsync(context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusTextSerializer.ContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The current exposition, from the cache when it is fresh enough; null when collection failed.</summary>
    public async ValueTask<byte[]?> ScrapeAsync(CancellationToken cancellationToken)
    {
        if (TryGetFresh() is { } fresh)
        {
            return fresh;
        }

        await _collecting.WaitAsync(cancellationToken);
        try
        {
            // A scrape that waited for another's collection takes its result.
            if (TryGetFresh() is { } collectedMeanwhile)
            {
                return collectedMeanwhile;
            }

            var body = Exporter.Scrape(CollectTimeoutMilliseconds);
            if (body is not null)
            {
                Volatile.Write(ref _cached, new CachedScrape(body, _timeProvider.GetTimestamp()));
            }

            return body;
        }
        finally
        {
            _collecting.Release();
        }
    }

    private byte[]? TryGetFresh()
    {
        var cached = Volatile.Read(ref _cached);
        if (cached is null)
        {
            return null;
        }

        var window = _options.CurrentValue.ScrapeCacheDuration;
        return window > TimeSpan.Zero && _timeProvider.GetElapsedTime(cached.Timestamp) < window ? cached.Body : null;
    }

    private sealed record CachedScrape(byte[] Body, long Timestamp);
}
