using System.Globalization;
using System.Net;
using System.Text;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>
/// A loopback <c>/metrics</c> endpoint that serves every series docs/metrics.md names for the Api, in
/// the Prometheus text format, as an Api under steady traffic would: each scrape is one more tick of
/// traffic, so counters grow between scrapes in fixed proportions and every ratio is known exactly.
/// Per tick, in units of 100: 8 cached requests (7 L1-or-L2 hits at 0.8 ms, 1 miss at 20 ms that calls the origin once)
/// and 2 bypass requests (one read at 80 ms, one write at 300 ms answering 5xx), each calling the origin.
/// Cache lookups per tick: 4 at L1 (2 hits), 2 at L2 (1 hit): a hit ratio of 3/4.
/// </summary>
internal sealed class SyntheticApiMetrics : IAsyncDisposable
{
    /// <summary>The hit ratio the traffic produces: 3 hits per 4 lookups.</summary>
    public const double HitRatio = 0.75;

    /// <summary>Origin calls per cached request (1 / 8) over per bypass request (2 / 2), subtracted from 1.</summary>
    public const double OriginCallReduction = 0.875;

    /// <summary>5xx answers over all answers: 1 of 10.</summary>
    public const double ErrorRatio = 0.1;

    /// <summary>L1 bytes over the L1 budget.</summary>
    public const double L1BudgetUsed = 0.5;

    /// <summary>Original bytes over stored bytes.</summary>
    public const double CompressionRatio = 4;

    /// <summary>p95 of the cached path: rank 7.6 of 8 falls in (0.01, 0.025] holding 1 request.</summary>
    public const double CachedP95Seconds = 0.01 + (0.015 * 0.6);

    /// <summary>The rollout phase reported.</summary>
    public const int Phase = 2;

    private static readonly double[] s_buckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private long _ticks;

    private SyntheticApiMetrics(HttpListener listener, int port)
    {
        _listener = listener;
        Port = port;
        _serving = ServeAsync();
    }

    /// <summary>The <c>host:port</c> Prometheus scrapes.</summary>
    public string Target => $"127.0.0.1:{Port}";

    /// <summary>The listening port.</summary>
    public int Port { get; }

    /// <summary>How many times the metrics were served.</summary>
    public long Scrapes => Interlocked.Read(ref _ticks);

    /// <summary>Starts serving on a free loopback port.</summary>
    public static SyntheticApiMetrics Start()
    {
        var port = ServerProcess.FreePort();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        return new SyntheticApiMetrics(listener, port);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _listener.Close();
        _stop.Dispose();
    }

    /// <summary>The exposition after <paramref name="ticks"/> ticks of traffic.</summary>
    internal static string Render(long ticks)
    {
        // 100 units of traffic per tick: a few seconds of it already clear the alerts' minimum request
        // rate over their 5-minute windows (rate() divides by the whole window even when the series is young).
        var n = ticks * 100;
        var text = new StringBuilder();
        Counter(text, "optimizedcache_requests_total", [
            ("tier=\"l1\",result=\"hit\",data_type=\"product\"", 2 * n),
            ("tier=\"l1\",result=\"miss\",data_type=\"product\"", 2 * n),
            ("tier=\"l2\",result=\"hit\",data_type=\"product\"", 1 * n),
            ("tier=\"l2\",result=\"miss\",data_type=\"product\"", 1 * n)]);
        Counter(text, "optimizedcache_factory_calls_total", [("data_type=\"product\",outcome=\"success\"", n)]);
        Counter(text, "optimizedcache_stale_served_total", [("data_type=\"product\"", n / 10)]);
        Counter(text, "optimizedcache_evictions_total", [("reason=\"capacity\"", 3 * n), ("reason=\"expired\"", n)]);
        Gauge(text, "optimizedcache_l1_size_bytes", 50_000_000);
        Gauge(text, "optimizedcache_l1_budget_bytes", 100_000_000);
        Gauge(text, "optimizedcache_l1_entries", 1234);
        Counter(text, "optimizedcache_compression_input_bytes_total", [("codec=\"lz4\"", 4000 * n)]);
        Counter(text, "optimizedcache_compression_output_bytes_total", [("codec=\"lz4\"", 1000 * n)]);
        Histogram(text, "optimizedcache_operation_duration_seconds", [
            ("operation=\"get\",tier=\"l1\"", 4 * n, 0.00004),
            ("operation=\"get\",tier=\"l2\"", 2 * n, 0.0004),
            ("operation=\"set\",tier=\"l2\"", n, 0.0006)]);
        Counter(text, "optimizedcache_l2_errors_total", [("operation=\"get\"", n / 20)]);
        Gauge(text, "optimizedcache_l2_circuit_state", 0);
        Counter(text, "optimizedcache_invalidations_total", [("kind=\"tag\",source=\"local\"", n), ("kind=\"key\",source=\"remote\"", n)]);

        Histogram(text, "store_request_duration_seconds", [
            ("group=\"reads\",cache_path=\"cached\",cache_result=\"hit\",status_class=\"2xx\"", 7 * n, 0.0008),
            ("group=\"reads\",cache_path=\"cached\",cache_result=\"miss\",status_class=\"2xx\"", 1 * n, 0.02),
            ("group=\"reads\",cache_path=\"bypass\",cache_result=\"bypass\",status_class=\"2xx\"", 1 * n, 0.08),
            ("group=\"writes\",cache_path=\"bypass\",cache_result=\"bypass\",status_class=\"5xx\"", 1 * n, 0.3)]);
        Counter(text, "store_origin_calls_total", [
            ("endpoint=\"products\",cache_path=\"cached\",outcome=\"success\"", n),
            ("endpoint=\"products\",cache_path=\"bypass\",outcome=\"success\"", n),
            ("endpoint=\"update_product\",cache_path=\"bypass\",outcome=\"error\"", n)]);
        Gauge(text, "store_rollout_phase", Phase);
        text.AppendLine("# TYPE store_feature_percentage gauge");
        text.AppendLine("store_feature_percentage{feature=\"Cache.Reads\"} 100");
        text.AppendLine("store_feature_percentage{feature=\"Cache.Writes\"} 10");

        Histogram(text, "http_server_request_duration_seconds", [
            ("http_request_method=\"GET\",http_route=\"/api/products/{id}\",http_response_status_code=\"200\"", 9 * n, 0.002),
            ("http_request_method=\"PUT\",http_route=\"/api/products/{id}\",http_response_status_code=\"500\"", 1 * n, 0.3)]);
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, (string Labels, long Value)[] series)
    {
        text.Append("# TYPE ").Append(name).AppendLine(" counter");
        foreach (var (labels, value) in series)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{{labels}}} {value}\n");
        }
    }

    private static void Gauge(StringBuilder text, string name, long value)
    {
        text.Append("# TYPE ").Append(name).AppendLine(" gauge");
        text.Append(CultureInfo.InvariantCulture, $"{name} {value}\n");
    }

    // Every observation of a series takes the same duration, so it lands in one bucket.
    private static void Histogram(StringBuilder text, string name, (string Labels, long Count, double Seconds)[] series)
    {
        text.Append("# TYPE ").Append(name).AppendLine(" histogram");
        foreach (var (labels, count, seconds) in series)
        {
            foreach (var bound in s_buckets)
            {
                var cumulative = seconds <= bound ? count : 0;
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{bound.ToString("0.#####", CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"+Inf\"}} {count}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {count * seconds}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_count{{{labels}}} {count}\n");
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().WaitAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                var body = Encoding.UTF8.GetBytes(Render(Interlocked.Increment(ref _ticks)));
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await context.Response.OutputStream.WriteAsync(body, _stop.Token);
                context.Response.Close();
            }
            catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }
        }
    }
}
