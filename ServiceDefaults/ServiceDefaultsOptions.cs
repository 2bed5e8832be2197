namespace OptimizedCache.ServiceDefaults;

/// <summary>
/// Settings for the shared service wiring, bound from the <c>ServiceDefaults</c> configuration section.
/// The meters and activity sources every service needs are built in (<see cref="DefaultMeters"/>,
/// <see cref="DefaultActivitySources"/>); a service adds its own with <see cref="AdditionalMeters"/> and
/// <see cref="AdditionalActivitySources"/>, or through <c>services.ConfigureOpenTelemetryMeterProvider(...)</c>.
/// </summary>
public sealed class ServiceDefaultsOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ServiceDefaults";

    /// <summary>
    /// The meters every service exports: the OptimizedCache parts, ASP.NET Core's built-in meters,
    /// the runtime's (<c>System.Runtime</c>, .NET 9 and later, and <c>OptimizedCache.Runtime</c>: the live heap after the
    /// latest gen-2 collection) and the HTTP client's.
    /// </summary>
    public static IReadOnlyList<string> DefaultMeters { get; } =
    [
        "OptimizedCache",
        "OptimizedCache.Api",
        "OptimizedCache.Monitoring",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Http.Connections",
        "System.Runtime",
        "OptimizedCache.Runtime",
        "System.Net.Http",
        "System.Net.NameResolution",
    ];

    /// <summary>
    /// The activity sources every service traces: the OptimizedCache parts, ASP.NET Core's server
    /// requests (<c>Microsoft.AspNetCore</c>) and outgoing HTTP calls (<c>System.Net.Http</c>).
    /// </summary>
    public static IReadOnlyList<string> DefaultActivitySources { get; } =
    [
        "OptimizedCache",
        "OptimizedCache.Api",
        "OptimizedCache.Monitoring",
        "Microsoft.AspNetCore",
        "System.Net.Http",
    ];

    /// <summary>
    /// Histogram bucket boundaries, in seconds, for every histogram whose unit is <c>s</c>: latencies
    /// from 50 µs to 10 s (docs/metrics.md).
    /// </summary>
    public static IReadOnlyList<double> LatencyBucketBoundaries { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Meters exported besides <see cref="DefaultMeters"/>; <c>*</c> is a wildcard.</summary>
    /// <value>Empty by default.</value>
    public IList<string> AdditionalMeters { get; } = [];

    /// <summary>
    /// Activity sources traced besides <see cref="DefaultActivitySources"/>; <c>*</c> is a wildcard.
    /// Sources are listened to only when traces go somewhere: an OTLP endpoint is set or a processor
    /// was registered with <c>ConfigureServiceDefaultsTracing</c>.
    /// </summary>
    /// <value>Empty by default.</value>
    public IList<string> AdditionalActivitySources { get; } = [];

    /// <summary>
    /// How long one collection answers <c>/metrics</c> before the next scrape collects again, so that
    /// several scrapers at once cost one collection. Zero collects on every scrape.
    /// </summary>
    /// <value>300 milliseconds; at most one minute.</value>
    public TimeSpan ScrapeCacheDuration { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The most distinct tag combinations one metric keeps; measurements with further combinations are
    /// aggregated into one more series labelled <c>otel_metric_overflow="true"</c>. With the SDK's limit of
    /// 1000 metric streams per provider, this bounds memory and the size of <c>/metrics</c>.
    /// </summary>
    /// <value>2000 (the OpenTelemetry SDK's default); between 1 and 100000.</value>
    public int MetricCardinalityLimit { get; set; } = 2000;
}
