using System.Diagnostics.Metrics;
using OptimizedCache.Api.Caching;

namespace OptimizedCache.Api.Telemetry;

/// <summary>
/// The <c>OptimizedCache.Api</c> meter (docs/metrics.md). Tags come from small fixed sets; never an id.
/// Also keeps in-process totals for the summaries the API serves itself.
/// </summary>
public sealed class ApiMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "OptimizedCache.Api";

    /// <summary>Request latency by group, cache path, cache result and status class.</summary>
    public const string RequestDuration = "store.request.duration";

    /// <summary>Origin calls by endpoint, cache path and outcome.</summary>
    public const string OriginCalls = "store.origin.calls";

    /// <summary>The rollout phase in force on this replica.</summary>
    public const string RolloutPhase = "store.rollout.phase";

    /// <summary>Each feature's percentage in the current phase.</summary>
    public const string FeaturePercentage = "store.feature.percentage";

    private static readonly double[] LatencyBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _originCalls;
    private readonly long[] _results = new long[Enum.GetValues<CacheGroup>().Length * 3];
    private readonly long[] _origin = new long[2 * 3];

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public ApiMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _requestDuration = Meter.CreateHistogram(
            RequestDuration, "s", "Store API request duration, by cache path.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _originCalls = Meter.CreateCounter<long>(OriginCalls, "{call}", "Calls made to the store origin.");
    }

    /// <summary>The meter, for instruments owned by other parts of the API (rollout gauges).</summary>
    public Meter Meter { get; }

    /// <summary>Records one finished request.</summary>
    public void RecordRequest(CacheGroup group, CacheResult result, int statusCode, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _results[((int)group * 3) + (int)result]);
        _requestDuration.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("group", group.TagValue()),
            new KeyValuePair<string, object?>("cache_path", result == CacheResult.Bypass ? "bypass" : "cached"),
            new KeyValuePair<string, object?>("cache_result", result.TagValue()),
            new KeyValuePair<string, object?>("status_class", statusCode switch { < 300 => "2xx", < 400 => "3xx", < 500 => "4xx", _ => "5xx" }));
    }

    /// <summary>Records one origin call.</summary>
    public void RecordOriginCall(string endpoint, bool cached, OriginOutcome outcome)
    {
        Interlocked.Increment(ref _origin[((cached ? 1 : 0) * 3) + (int)outcome]);
        _originCalls.Add(
            1,
            new KeyValuePair<string, object?>("endpoint", endpoint),
            new KeyValuePair<string, object?>("cache_path", cached ? "cached" : "bypass"),
            new KeyValuePair<string, object?>("outcome", outcome switch
            {
                OriginOutcome.Success => "success",
                OriginOutcome.RateLimited => "rate_limited",
                _ => "error",
            }));
    }

    /// <summary>Requests answered on this replica since start, by group and cache result.</summary>
    public IReadOnlyDictionary<string, RequestCounts> RequestTotals() =>
        Enum.GetValues<CacheGroup>().ToDictionary(
            g => g.TagValue(),
            g => new RequestCounts(
                Volatile.Read(ref _results[((int)g * 3) + (int)CacheResult.Hit]),
                Volatile.Read(ref _results[((int)g * 3) + (int)CacheResult.Miss]),
                Volatile.Read(ref _results[((int)g * 3) + (int)CacheResult.Bypass])));

    /// <summary>Origin calls made by this replica since start, by cache path.</summary>
    public OriginCounts OriginTotals() => new(
        Volatile.Read(ref _origin[3]) + Volatile.Read(ref _origin[4]) + Volatile.Read(ref _origin[5]),
        Volatile.Read(ref _origin[0]) + Volatile.Read(ref _origin[1]) + Volatile.Read(ref _origin[2]),
        Volatile.Read(ref _origin[1]) + Volatile.Read(ref _origin[4]),
        Volatile.Read(ref _origin[2]) + Volatile.Read(ref _origin[5]));
}

/// <summary>How an origin call ended.</summary>
public enum OriginOutcome
{
    /// <summary>It answered (including "not found").</summary>
    Success,

    /// <summary>It failed.</summary>
    Error,

    /// <summary>It answered 429.</summary>
    RateLimited,
}

/// <summary>Requests by cache result.</summary>
/// <param name="Hit">Served from the cache.</param>
/// <param name="Miss">Cached path, fetched from the origin.</param>
/// <param name="Bypass">Left out by the flag.</param>
public sealed record RequestCounts(long Hit, long Miss, long Bypass)
{
    /// <summary>Hits over cached-path requests, or null before the first.</summary>
    public double? HitRatio => Hit + Miss == 0 ? null : (double)Hit / (Hit + Miss);
}

/// <summary>Origin calls by cache path.</summary>
/// <param name="Cached">Calls made by cache factories (misses).</param>
/// <param name="Bypass">Calls made for requests that bypassed the cache.</param>
/// <param name="Errors">Calls that failed.</param>
/// <param name="RateLimited">Calls answered 429.</param>
public sealed record OriginCounts(long Cached, long Bypass, long Errors, long RateLimited);
