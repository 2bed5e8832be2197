using System.Text.RegularExpressions;
using OptimizedCache.ServiceDefaults.Internal;

namespace OptimizedCache.ServiceDefaults.Tests;

public sealed partial class PrometheusNamingTests
{
    [Theory]
    [InlineData("optimizedcache.requests", "{request}", "counter", "optimizedcache_requests_total")]
    [InlineData("optimizedcache.l1.size", "By", "gauge", "optimizedcache_l1_size_bytes")]
    [InlineData("optimizedcache.compression.input", "By", "counter", "optimizedcache_compression_input_bytes_total")]
    [InlineData("http.server.request.duration", "s", "histogram", "http_server_request_duration_seconds")]
    [InlineData("http.server.active_requests", "{request}", "gauge", "http_server_active_requests")]
    [InlineData("system.cpu.utilization", "1", "gauge", "system_cpu_utilization_ratio")]
    [InlineData("hits", "1", "counter", "hits_total")]
    [InlineData("io.total", "By", "counter", "io_bytes_total")]
    [InlineData("download.rate", "By/s", "gauge", "download_rate_bytes_per_second")]
    [InlineData("events.rate", "{event}/s", "gauge", "events_rate_per_second")]
    [InlineData("gc.pause", "ms", "histogram", "gc_pause_milliseconds")]
    [InlineData("queue.wait_seconds", "s", "histogram", "queue_wait_seconds")]
    [InlineData("2xx..responses", "", "counter", "_2xx_responses_total")]
    [InlineData("café-hits/total", "{hit}", "counter", "caf_hits_total")]
    [InlineData("store.feature.percentage", "%", "gauge", "store_feature_percentage_percent")]
    [InlineData("odd.unit", "{a}x y{b}", "gauge", "odd_unit_x_y")]
    public void ConvertsNamesAndUnitsTheWayPrometheusConventionsDo(string name, string unit, string kind, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, KindOf(kind)));
    }

    [Theory]
    [InlineData("http.request.method", "http_request_method")]
    [InlineData("data_type", "data_type")]
    [InlineData("1st", "key_1st")]
    [InlineData("_private", "key_private")]
    [InlineData("__reserved", "key__reserved")]
    [InlineData("a-b c", "a_b_c")]
    public void SanitizesLabelNames(string key, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.LabelName(key));
    }

    [Theory]
    [InlineData(0.00005, "0.00005")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(2.5, "2.5")]
    [InlineData(10, "10")]
    [InlineData(-3, "-3")]
    [InlineData(1e300, "1E+300")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    public void FormatsValuesSoPrometheusParsesThemExactly(double value, string expected)
    {
        Assert.Equal(expected, PrometheusTextSerializer.FormatDouble(value));
    }

    /// <summary>docs/metrics.md is the contract the dashboards, rules and rollout guard are written against.</summary>
    [Fact]
    public void EveryInstrumentInTheMetricsContractGetsItsDocumentedSeriesName()
    {
        var rows = File.ReadAllLines(RepositoryFile("docs/metrics.md"))
            .Select(line => ContractRow().Match(line))
            .Where(match => match.Success)
            .ToList();
        Assert.True(rows.Count >= 15, $"Only {rows.Count} instrument rows were found in docs/metrics.md.");
        foreach (var row in rows)
        {
            var kind = KindOf(row.Groups["kind"].Value);
            var documented = row.Groups["series"].Value;
            if (kind == PrometheusKind.Histogram)
            {
                documented = documented.Replace("_{bucket,sum,count}", "", StringComparison.Ordinal);
            }

            Assert.Equal(documented, PrometheusNaming.MetricName(row.Groups["name"].Value, row.Groups["unit"].Value, kind));
        }
    }

    private static PrometheusKind KindOf(string kind) => kind switch
    {
        "counter" => PrometheusKind.Counter,
        "gauge" => PrometheusKind.Gauge,
        "histogram" => PrometheusKind.Histogram,
        _ => throw new ArgumentException($"Unknown metric kind '{kind}'.", nameof(kind)),
    };

    private static string RepositoryFile(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "OptimizedCache.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relativePath} was not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^\| `(?<name>[a-z0-9_.]+)` \| (?<kind>counter|gauge|histogram), `(?<unit>[^`]*)` \|.*\| `(?<series>[a-z0-9_{},]+)`")]
    private static partial Regex ContractRow();
}
