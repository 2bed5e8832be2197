using System.Globalization;
using OptimizedCache.Monitoring.Prometheus;

namespace OptimizedCache.Monitoring.Guard;

/// <summary>A chart the panel and the report draw: a fixed PromQL template, never a query from outside.</summary>
/// <param name="Name">The name the browser asks for.</param>
/// <param name="Title">The chart's title.</param>
/// <param name="Unit">The unit of the values.</param>
/// <param name="Query">The PromQL for a rate window.</param>
/// <param name="SeriesLabel">The label whose value names each series, or null for a single series.</param>
public sealed record ChartDefinition(string Name, string Title, string Unit, Func<string, string> Query, string? SeriesLabel);

/// <summary>One chart's data.</summary>
/// <param name="Name">The chart.</param>
/// <param name="Title">Its title.</param>
/// <param name="Unit">Unit of the values.</param>
/// <param name="Series">Named series of [unix seconds, value] points.</param>
public sealed record ChartData(string Name, string Title, string Unit, IReadOnlyList<ChartSeriesData> Series);

/// <summary>One line of a chart.</summary>
/// <param name="Name">The line's name.</param>
/// <param name="Points">Points as [unix seconds, value].</param>
public sealed record ChartSeriesData(string Name, IReadOnlyList<double[]> Points);

/// <summary>The whitelist of charts and how their data is read.</summary>
public static class Charts
{
    /// <summary>Shortest accepted range.</summary>
    public static readonly TimeSpan MinRange = TimeSpan.FromMinutes(1);

    /// <summary>Longest accepted range.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(7);

    /// <summary>Points per series at most (about).</summary>
    public const int PointsPerSeries = 120;

    /// <summary>The charts, by name, for the guard's quantile, memory plan and selector.</summary>
    public static IReadOnlyDictionary<string, ChartDefinition> Create(GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var quantile = options.Triggers.LatencyQuantile;
        var s = new RolloutQueries(options.Selector);
        var size = s.Series("optimizedcache_l1_size_bytes");
        var memory = options.Triggers.PlannedMemoryBytes is { } plan
            ? string.Create(CultureInfo.InvariantCulture, $"100 * max({size}) / {plan}")
            : $"100 * max({size} / {s.Series("optimizedcache_l1_budget_bytes")})";
        var all = s.Series("store_request_duration_seconds_count");
        var errors = s.Series("store_request_duration_seconds_count", "status_class=\"5xx\"");
        ChartDefinition[] charts =
        [
            new("hit_ratio", "Hit ratio", "%",
                w => $"100 * sum(rate({s.Series("optimizedcache_requests_total", "result=\"hit\"")}[{w}])) / sum(rate({s.Series("optimizedcache_requests_total", "tier=\"l1\"")}[{w}]))", null),
            new("latency", string.Create(CultureInfo.InvariantCulture, $"Latency p{quantile * 100:0.#}, cached vs bypass"), "ms",
                w => "1000 * " + s.LatencyQuantile(quantile, w, by: "le, cache_path"), "cache_path"),
            new("origin_calls", "Origin calls", "calls/s",
                w => $"sum by (cache_path) (rate({s.Series("store_origin_calls_total")}[{w}]))", "cache_path"),
            new("errors", "Error rate (5xx)", "%",
                w => $"100 * (sum(rate({errors}[{w}])) or on() (0 * sum(rate({all}[{w}])))) / sum(rate({all}[{w}]))", null),
            new("memory", "L1 memory of plan", "%", _ => memory, null),
            new("requests", "Requests", "req/s", w => $"sum by (cache_path) (rate({all}[{w}]))", "cache_path"),
        ];
        return charts.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    /// <summary>Parses a range such as <c>90s</c>, <c>15m</c>, <c>1h</c>, <c>2d</c>.</summary>
    public static bool TryParseRange(string? text, out TimeSpan range)
    {
        range = default;
        if (string.IsNullOrEmpty(text) || text.Length > 8)
        {
            return false;
        }

        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }

        range = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.Zero,
        };
        return range > TimeSpan.Zero;
    }

    /// <summary>Reads one chart over <paramref name="range"/> ending at <paramref name="end"/>.</summary>
    public static async Task<ChartData> ReadAsync(
        PrometheusClient prometheus, ChartDefinition chart, TimeSpan range, DateTimeOffset end, TimeSpan scrapeInterval, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(range.TotalSeconds / PointsPerSeries)));
        // A rate needs at least two samples in its window: four scrape intervals, or four steps on long ranges.
        var window = TimeSpan.FromTicks(Math.Max(step.Ticks * 4, scrapeInterval.Ticks * 4));
        var series = await prometheus.QueryRangeAsync(chart.Query(RolloutQueries.Duration(window)), end - range, end, step, cancellationToken);
        var data = series
            .OrderBy(s => chart.SeriesLabel is null ? string.Empty : s.Labels.GetValueOrDefault(chart.SeriesLabel, string.Empty), StringComparer.Ordinal)
            .Take(8)
            .Select(s => new ChartSeriesData(
                chart.SeriesLabel is null ? chart.Title : s.Labels.GetValueOrDefault(chart.SeriesLabel, "(none)"),
                [.. s.Points.Where(p => double.IsFinite(p.Value)).Select(p => new[] { p.Time.ToUnixTimeMilliseconds() / 1000.0, Math.Round(p.Value, 6) })]))
            .ToList();
        return new ChartData(chart.Name, chart.Title, chart.Unit, data);
    }
}
