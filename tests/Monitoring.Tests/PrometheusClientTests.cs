using System.Net;
using System.Net.Sockets;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The typed Prometheus client's results and errors, against a real Prometheus.</summary>
public sealed class PrometheusClientTests
{
    private const string EmptyConfig = """
        global:
          scrape_interval: 1s
        scrape_configs: []
        """;

    [Fact]
    public async Task ReturnsScalarsVectorsAndRanges()
    {
        await using var prometheus = await PrometheusServer.StartAsync(EmptyConfig);
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress };
        var client = new PrometheusClient(http);
        var now = DateTimeOffset.UtcNow;

        var scalar = Assert.Single(await client.QueryAsync("scalar(vector(42))", now, default));
        Assert.Equal(42, scalar.Value);
        var vector = Assert.Single(await client.QueryAsync("label_replace(vector(0.5), \"path\", \"cached\", \"\", \"\")", now, default));
        Assert.Equal(("cached", 0.5), (vector.Labels["path"], vector.Value));
        Assert.True(double.IsNaN(Assert.Single(await client.QueryAsync("vector(0) / 0", now, default)).Value));
        Assert.Empty(await client.QueryAsync("absent_series_name_for_test", now, default));

        var range = Assert.Single(await client.QueryRangeAsync("vector(1)", now.AddSeconds(-10), now, TimeSpan.FromSeconds(2), default));
        Assert.InRange(range.Points.Count, 5, 6);
        Assert.All(range.Points, p => Assert.Equal(1, p.Value));
    }

    [Fact]
    public async Task ARejectedQueryNamesTheQueryAndPrometheusReason()
    {
        await using var prometheus = await PrometheusServer.StartAsync(EmptyConfig);
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress };

        var e = await Assert.ThrowsAsync<PrometheusQueryException>(
            () => new PrometheusClient(http).QueryAsync("sum(rate(x[5m]", DateTimeOffset.UtcNow, default));

        Assert.Equal("sum(rate(x[5m]", e.Query);
        Assert.Contains("bad_data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NobodyListeningIsUnavailable()
    {
        using var refusing = ServerProcess.ReserveRefusingPort(out var deadPort);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{deadPort}/") };

        var e = await Assert.ThrowsAsync<PrometheusUnavailableException>(
            () => new PrometheusClient(http).QueryAsync("up", DateTimeOffset.UtcNow, default));

        Assert.Contains("unreachable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatNeverAnswersTimesOutAsUnavailable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMilliseconds(300) };

        var e = await Assert.ThrowsAsync<PrometheusUnavailableException>(
            () => new PrometheusClient(http).QueryAsync("up", DateTimeOffset.UtcNow, default));

        Assert.Contains("did not answer within 0.3 s", e.Message, StringComparison.Ordinal);
    }
}
