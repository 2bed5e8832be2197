using System.Globalization;
using System.Net;
using System.Text;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>
/// A scrape target serving the Api's and the cache's series (docs/metrics.md) in the Prometheus text format,
/// with counters the test drives between scrapes. Every series exists from the start (at zero), as the real
/// exporters' do once traffic has touched them, so <c>increase()</c> sees every change.
/// </summary>
public sealed class SyntheticApiTarget : IAsyncDisposable
{
    private static readonly double[] Buckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly string[] Paths = ["cached", "bypass"];
    private static readonly string[] StatusClasses = ["2xx", "5xx"];

    private readonly Lock _lock = new();
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly Dictionary<(string Path, string Status), Histogram> _requests = [];
    private readonly Dictionary<string, double> _originCalls = new() { ["cached"] = 0, ["bypass"] = 0 };
    private readonly Dictionary<(string Tier, string Result), double> _cache = new()
    {
        [("l1", "hit")] = 0, [("l1", "miss")] = 0, [("l2", "hit")] = 0, [("l2", "miss")] = 0,
    };

    private double _l1Size = 1_000_000;
    private double _l1Budget = 10_000_000;
    private int _phase;

    private SyntheticApiTarget(int port)
    {
        Port = port;
        foreach (var path in Paths)
        {
            foreach (var status in StatusClasses)
            {
                _requests[(path, status)] = new Histogram();
            }
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>How many times the target has been scraped.</summary>
    public int Scrapes { get; private set; }

    /// <summary>Starts the target on a free port.</summary>
    public static SyntheticApiTarget Start(int phase = 0)
    {
        var target = new SyntheticApiTarget(ServerProcess.FreePort());
        target.SetPhase(phase);
        return target;
    }

    /// <summary>A Prometheus config scraping this target every second.</summary>
    public string PrometheusConfig() => $"""
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: api
            static_configs:
              - targets: ['127.0.0.1:{Port}']
        """;

    /// <summary>Sets the exported rollout phase.</summary>
    public void SetPhase(int phase)
    {
        lock (_lock)
        {
            _phase = phase;
        }
    }

    /// <summary>Records <paramref name="count"/> requests on a path with a latency and status class.</summary>
    public void Requests(string path, int count, double seconds, string status = "2xx")
    {
        lock (_lock)
        {
            _requests[(path, status)].Observe(count, seconds);
        }
    }

    /// <summary>Records origin calls made on a path.</summary>
    public void OriginCalls(string path, int count)
    {
        lock (_lock)
        {
            _originCalls[path] += count;
        }
    }

    /// <summary>Records cache lookups: every lookup is an L1 hit or miss; an L1 miss is an L2 hit or miss.</summary>
    public void Lookups(int l1Hits, int l2Hits, int misses)
    {
        lock (_lock)
        {
            _cache[("l1", "hit")] += l1Hits;
            _cache[("l1", "miss")] += l2Hits + misses;
            _cache[("l2", "hit")] += l2Hits;
            _cache[("l2", "miss")] += misses;
        }
    }

    /// <summary>Sets the L1 size and budget gauges.</summary>
    public void SetMemory(double sizeBytes, double budgetBytes)
    {
        lock (_lock)
        {
            _l1Size = sizeBytes;
            _l1Budget = budgetBytes;
        }
    }

    /// <summary>Waits until Prometheus has scraped the target twice more (so the last change is in its data).</summary>
    public async Task WaitForScrapesAsync(int count = 2)
    {
        var until = Scrapes + count;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Scrapes < until)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Prometheus stopped scraping the synthetic target.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The exposition text.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            text.AppendLine("# TYPE store_request_duration_seconds histogram");
            foreach (var ((path, status), h) in _requests)
            {
                var labels = $"group=\"reads\",cache_path=\"{path}\",cache_result=\"{(path == "cached" ? "hit" : "bypass")}\",status_class=\"{status}\"";
                for (var i = 0; i < Buckets.Length; i++)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"store_request_duration_seconds_bucket{{{labels},le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"}} {h.Cumulative(i)}");
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"store_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {h.Count}");
                text.AppendLine(CultureInfo.InvariantCulture, $"store_request_duration_seconds_sum{{{labels}}} {h.Sum}");
                text.AppendLine(CultureInfo.InvariantCulture, $"store_request_duration_seconds_count{{{labels}}} {h.Count}");
            }

            text.AppendLine("# TYPE store_origin_calls_total counter");
            foreach (var (path, calls) in _originCalls)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"store_origin_calls_total{{endpoint=\"products\",cache_path=\"{path}\",outcome=\"success\"}} {calls}");
            }

            text.AppendLine("# TYPE optimizedcache_requests_total counter");
            foreach (var ((tier, result), n) in _cache)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"optimizedcache_requests_total{{tier=\"{tier}\",result=\"{result}\",data_type=\"product\"}} {n}");
            }

            text.AppendLine("# TYPE optimizedcache_l1_size_bytes gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"optimizedcache_l1_size_bytes {_l1Size}");
            text.AppendLine("# TYPE optimizedcache_l1_budget_bytes gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"optimizedcache_l1_budget_bytes {_l1Budget}");
            text.AppendLine("# TYPE store_rollout_phase gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"store_rollout_phase {_phase}");
        }

        return text.ToString();
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

            var body = Encoding.UTF8.GetBytes(Render());
            context.Response.ContentType = "text/plain; version=0.0.4";
            try
            {
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
            catch (HttpListenerException)
            {
                // The scraper went away.
            }

            lock (_lock)
            {
                Scrapes++;
            }
        }
    }

    private sealed class Histogram
    {
        private readonly double[] _counts = new double[Buckets.Length];

        public double Count { get; private set; }

        public double Sum { get; private set; }

        public void Observe(int count, double seconds)
        {
            Count += count;
            Sum += count * seconds;
            for (var i = 0; i < Buckets.Length; i++)
            {
                if (seconds <= Buckets[i])
                {
                    _counts[i] += count;
                    break;
                }
            }
        }

        public double Cumulative(int bucket)
        {
            double total = 0;
            for (var i = 0; i <= bucket; i++)
            {
                total += _counts[i];
            }

            return total;
        }
    }
}
