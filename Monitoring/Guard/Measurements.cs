using System.Globalization;
using OptimizedCache.Monitoring.Prometheus;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>
/// The PromQL behind every figure the guard, the panel and the report use. Built from the raw series in
/// docs/metrics.md (not from recording rules), so the guard needs nothing but a Prometheus that scrapes the Api.
/// </summary>
public static class RolloutQueries
{
    /// <summary>Requests of the Api in the window, every path.</summary>
    public static string Requests(string window, string? selector = null) =>
        $"sum(increase(store_request_duration_seconds_count{Braces(selector)}[{window}]))";

    /// <summary>A latency quantile over the window (seconds) for the requests matching <paramref name="selector"/>.</summary>
    public static string LatencyQuantile(double quantile, string window, string? selector = null) =>
        string.Create(CultureInfo.InvariantCulture,
            $"histogram_quantile({quantile}, sum by (le) (rate(store_request_duration_seconds_bucket{Braces(selector)}[{window}])))");

    /// <summary>Origin calls in the window.</summary>
    public static string OriginCalls(string window, string? selector = null) =>
        $"sum(increase(store_origin_calls_total{Braces(selector)}[{window}]))";

    /// <summary>L1 lookups (every cache lookup starts at L1) in the window.</summary>
    public static string CacheLookups(string window) => $"sum(increase(optimizedcache_requests_total{{tier=\"l1\"}}[{window}]))";

    /// <summary>Cache hits (L1 or L2) in the window.</summary>
    public static string CacheHits(string window) => $"sum(increase(optimizedcache_requests_total{{result=\"hit\"}}[{window}]))";

    /// <summary>The largest replica's average L1 size over the window, bytes.</summary>
    public static string MemoryBytes(string window) => $"max(avg_over_time(optimizedcache_l1_size_bytes[{window}]))";

    /// <summary>The largest replica's average L1 size over the window as a fraction of the plan (its own budget, or a fixed plan).</summary>
    public static string MemoryRatio(string window, long? plannedBytes) =>
        plannedBytes is { } plan
            ? string.Create(CultureInfo.InvariantCulture, $"max(avg_over_time(optimizedcache_l1_size_bytes[{window}])) / {plan}")
            : $"max(avg_over_time(optimizedcache_l1_size_bytes[{window}]) / avg_over_time(optimizedcache_l1_budget_bytes[{window}]))";

    /// <summary>The largest replica's peak L1 size over the window as a fraction of the plan.</summary>
    public static string PeakMemoryRatio(string window, long? plannedBytes) =>
        plannedBytes is { } plan
            ? string.Create(CultureInfo.InvariantCulture, $"max(max_over_time(optimizedcache_l1_size_bytes[{window}])) / {plan}")
            : $"max(max_over_time(optimizedcache_l1_size_bytes[{window}]) / min_over_time(optimizedcache_l1_budget_bytes[{window}]))";

    /// <summary>The highest rollout phase any replica reported in the window.</summary>
    public static string MaxPhase(string window) => $"max(max_over_time(store_rollout_phase[{window}]))";

    /// <summary>A window as a PromQL duration (whole seconds).</summary>
    public static string Duration(TimeSpan window) =>
        string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, (long)Math.Round(window.TotalSeconds))}s");

    private static string Braces(string? selector) => string.IsNullOrEmpty(selector) ? string.Empty : "{" + selector + "}";
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

    /// <summary>Reads every figure for <paramref name="window"/> ending at <paramref name="time"/>, the queries in parallel.</summary>
    /// <exception cref="PrometheusUnavailableException">Prometheus could not be reached.</exception>
    /// <exception cref="PrometheusQueryException">Prometheus rejected a query.</exception>
    public static async Task<Measurements> ReadAsync(
        PrometheusClient prometheus, TimeSpan window, double quantile, long? plannedMemoryBytes, DateTimeOffset time,
        CancellationToken cancellationToken, bool peakMemory = false)
    {
        var w = RolloutQueries.Duration(window);
        (string Name, string Query)[] queries =
        [
            (Names.Requests, RolloutQueries.Requests(w)),
            (Names.Errors, RolloutQueries.Requests(w, "status_class=\"5xx\"")),
            (Names.CachedRequests, RolloutQueries.Requests(w, "cache_path=\"cached\"")),
            (Names.BypassRequests, RolloutQueries.Requests(w, "cache_path=\"bypass\"")),
            (Names.BypassErrors, RolloutQueries.Requests(w, "cache_path=\"bypass\",status_class=\"5xx\"")),
            (Names.CachedLatency, RolloutQueries.LatencyQuantile(quantile, w, "cache_path=\"cached\"")),
            (Names.BypassLatency, RolloutQueries.LatencyQuantile(quantile, w, "cache_path=\"bypass\"")),
            (Names.AllLatency, RolloutQueries.LatencyQuantile(quantile, w)),
            (Names.OriginCalls, RolloutQueries.OriginCalls(w)),
            (Names.CachedOriginCalls, RolloutQueries.OriginCalls(w, "cache_path=\"cached\"")),
            (Names.BypassOriginCalls, RolloutQueries.OriginCalls(w, "cache_path=\"bypass\"")),
            (Names.CacheLookups, RolloutQueries.CacheLookups(w)),
            (Names.CacheHits, RolloutQueries.CacheHits(w)),
            (Names.MemoryBytes, RolloutQueries.MemoryBytes(w)),
            (Names.MemoryRatio, peakMemory ? RolloutQueries.PeakMemoryRatio(w, plannedMemoryBytes) : RolloutQueries.MemoryRatio(w, plannedMemoryBytes)),
            (Names.MaxPhase, RolloutQueries.MaxPhase(w)),
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
