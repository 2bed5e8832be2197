using System.Globalization;
using OptimizedCache.Monitoring.Prometheus;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>
/// The PromQL behind every figure the guard, the panel and the report use. Built from the raw series in
/// docs/metrics.md (not from recording rules), so the guard needs nothing but a Prometheus that scrapes the Api.
/// An optional base selector (<see cref="GuardOptions.Selector"/>, e.g. <c>job="api"</c>) narrows every series to
/// the Api being rolled out when one Prometheus scrapes several.
/// </summary>
/// <param name="selector">Label matchers added to every series, or empty.</param>
public sealed class RolloutQueries(string? selector = null)
{
    /// <summary>Requests of the Api in the window.</summary>
    public string Requests(string window, string? matchers = null) =>
        $"sum(increase({Series("store_request_duration_seconds_count", matchers)}[{window}]))";

    /// <summary>A latency quantile over the window (seconds) for the requests matching <paramref name="matchers"/>.</summary>
    public string LatencyQuantile(double quantile, string window, string? matchers = null, string by = "le") =>
        string.Create(CultureInfo.InvariantCulture,
            $"histogram_quantile({quantile}, sum by ({by}) (rate({Series("store_request_duration_seconds_bucket", matchers)}[{window}])))");

    /// <summary>Origin calls in the window.</summary>
    public string OriginCalls(string window, string? matchers = null) =>
        $"sum(increase({Series("store_origin_calls_total", matchers)}[{window}]))";

    /// <summary>L1 lookups (every cache lookup starts at L1) in the window.</summary>
    public string CacheLookups(string window) => $"sum(increase({Series("optimizedcache_requests_total", "tier=\"l1\"")}[{window}]))";

    /// <summary>Cache hits (L1 or L2) in the window.</summary>
    public string CacheHits(string window) => $"sum(increase({Series("optimizedcache_requests_total", "result=\"hit\"")}[{window}]))";

    /// <summary>The largest replica's average L1 size over the window, bytes.</summary>
    public string MemoryBytes(string window) => $"max(avg_over_time({Series("optimizedcache_l1_size_bytes")}[{window}]))";

    /// <summary>The largest replica's average L1 size over the window as a fraction of the plan (its own budget, or a fixed plan).</summary>
    public string MemoryRatio(string window, long? plannedBytes) =>
        plannedBytes is { } plan
            ? string.Create(CultureInfo.InvariantCulture, $"max(avg_over_time({Series("optimizedcache_l1_size_bytes")}[{window}])) / {plan}")
            : $"max(avg_over_time({Series("optimizedcache_l1_size_bytes")}[{window}]) / avg_over_time({Series("optimizedcache_l1_budget_bytes")}[{window}]))";

    /// <summary>The largest replica's peak L1 size over the window as a fraction of the plan.</summary>
    public string PeakMemoryRatio(string window, long? plannedBytes) =>
        plannedBytes is { } plan
            ? string.Create(CultureInfo.InvariantCulture, $"max(max_over_time({Series("optimizedcache_l1_size_bytes")}[{window}])) / {plan}")
            : $"max(max_over_time({Series("optimizedcache_l1_size_bytes")}[{window}]) / min_over_time({Series("optimizedcache_l1_budget_bytes")}[{window}]))";

    /// <summary>The highest rollout phase any replica reported in the window.</summary>
    public string MaxPhase(string window) => $"max(max_over_time({Series("store_rollout_phase")}[{window}]))";

    /// <summary>A series with the base selector and <paramref name="matchers"/>: <c>name{base,matchers}</c>.</summary>
    public string Series(string metric, string? matchers = null)
    {
        var parts = new[] { selector, matchers }.Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
        return parts.Length == 0 ? metric : metric + "{" + string.Join(",", parts) + "}";
    }

    /// <summary>A window as a PromQL duration (whole seconds).</summary>
    public static string Duration(TimeSpan window) =>
        string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, (long)Math.Round(window.TotalSeconds))}s");
}

/// <summary>One figure read from Prometheus, with the query that produced it (evidence).</summary>
/// <param name="Name">The figure's name.</param>
/// <param name="Query">The PromQL.</param>
/// <param name="Value">The value; null when Prometheus returned no series (or NaN).</param>
public sealed record Figure(string Name, string Query, double? Value);

/// <summary>Every figure of one window, read at one instant.</summary>
public sealed class Measurements
{
    private readonly Dictionary<string, Figure> _figures;

    internal Measurements(DateTimeOffset time, TimeSpan window, IEnumerable<Figure> figures)
    {
        Time = time;
        Window = window;
        _figures = figures.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    /// <summary>When the figures were read.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The window they cover.</summary>
    public TimeSpan Window { get; }

    /// <summary>All figures.</summary>
    public IReadOnlyCollection<Figure> Figures => _figures.Values;

    /// <summary>A figure by name.</summary>
    public Figure this[string name] => _figures[name];

    /// <summary>A figure's value, or null.</summary>
    public double? Value(string name) => _figures.TryGetValue(name, out var f) ? f.Value : null;

    /// <summary>Figure names.</summary>
    public static class Names
    {
        /// <summary>Every request.</summary>
        public const string Requests = "requests";

        /// <summary>Every 5xx response.</summary>
        public const string Errors = "errors";

        /// <summary>Requests on the cached path.</summary>
        public const string CachedRequests = "cached_requests";

        /// <summary>Requests on the bypass path.</summary>
        public const string BypassRequests = "bypass_requests";

        /// <summary>5xx responses on the bypass path.</summary>
        public const string BypassErrors = "bypass_errors";

        /// <summary>Latency quantile of the cached path, seconds.</summary>
        public const string CachedLatency = "cached_latency";

        /// <summary>Latency quantile of the bypass path, seconds.</summary>
        public const string BypassLatency = "bypass_latency";

        /// <summary>Latency quantile of every request, seconds.</summary>
        public const string AllLatency = "all_latency";

        /// <summary>Origin calls of every request.</summary>
        public const string OriginCalls = "origin_calls";

        /// <summary>Origin calls of the cached path.</summary>
        public const string CachedOriginCalls = "cached_origin_calls";

        /// <summary>Origin calls of the bypass path.</summary>
        public const string BypassOriginCalls = "bypass_origin_calls";

        /// <summary>Cache lookups.</summary>
        public const string CacheLookups = "cache_lookups";

        /// <summary>Cache hits.</summary>
        public const string CacheHits = "cache_hits";

        /// <summary>L1 bytes (largest replica).</summary>
        public const string MemoryBytes = "memory_bytes";

        /// <summary>L1 memory as a fraction of the plan (largest replica).</summary>
        public const string MemoryRatio = "memory_ratio";

        /// <summary>Highest phase in the window.</summary>
        public const string MaxPhase = "max_phase";
    }

    /// <summary>
    /// Reads every figure for <paramref name="window"/> ending at <paramref name="time"/>, the queries in parallel;
    /// quantile, memory plan and selector come from <paramref name="options"/>. With <paramref name="peakMemory"/>
    /// the memory figure is the window's peak rather than its average (the report's resource check).
    /// </summary>
    /// <exception cref="PrometheusUnavailableException">Prometheus could not be reached.</exception>
    /// <exception cref="PrometheusQueryException">Prometheus rejected a query.</exception>
    public static async Task<Measurements> ReadAsync(
        PrometheusClient prometheus, GuardOptions options, TimeSpan window, DateTimeOffset time, CancellationToken cancellationToken,
        bool peakMemory = false)
    {
        ArgumentNullException.ThrowIfNull(prometheus);
        ArgumentNullException.ThrowIfNull(options);
        var q = new RolloutQueries(options.Selector);
        var quantile = options.Triggers.LatencyQuantile;
        var plannedMemoryBytes = options.Triggers.PlannedMemoryBytes;
        var w = RolloutQueries.Duration(window);
        (string Name, string Query)[] queries =
        [
            (Names.Requests, q.Requests(w)),
            (Names.Errors, q.Requests(w, "status_class=\"5xx\"")),
            (Names.CachedRequests, q.Requests(w, "cache_path=\"cached\"")),
            (Names.BypassRequests, q.Requests(w, "cache_path=\"bypass\"")),
            (Names.BypassErrors, q.Requests(w, "cache_path=\"bypass\",status_class=\"5xx\"")),
            (Names.CachedLatency, q.LatencyQuantile(quantile, w, "cache_path=\"cached\"")),
            (Names.BypassLatency, q.LatencyQuantile(quantile, w, "cache_path=\"bypass\"")),
            (Names.AllLatency, q.LatencyQuantile(quantile, w)),
            (Names.OriginCalls, q.OriginCalls(w)),
            (Names.CachedOriginCalls, q.OriginCalls(w, "cache_path=\"cached\"")),
            (Names.BypassOriginCalls, q.OriginCalls(w, "cache_path=\"bypass\"")),
            (Names.CacheLookups, q.CacheLookups(w)),
            (Names.CacheHits, q.CacheHits(w)),
            (Names.MemoryBytes, q.MemoryBytes(w)),
            (Names.MemoryRatio, peakMemory ? q.PeakMemoryRatio(w, plannedMemoryBytes) : q.MemoryRatio(w, plannedMemoryBytes)),
            (Names.MaxPhase, q.MaxPhase(w)),
        ];

        var tasks = queries.Select(async q =>
        {
            var samples = await prometheus.QueryAsync(q.Query, time, cancellationToken);
            double? value = samples.Count > 0 && double.IsFinite(samples[0].Value) ? samples[0].Value : null;
            return new Figure(q.Name, q.Query, value);
        });
        return new Measurements(time, window, await Task.WhenAll(tasks));
    }
}
