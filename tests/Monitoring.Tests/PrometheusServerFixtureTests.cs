using System.Net;
using System.Text;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests;

/// <summary>The prometheus fixture itself: ready, and scraping a real static target.</summary>
public sealed class PrometheusServerFixtureTests
{
    [Fact]
    public async Task ReportsReadyAndScrapesAStaticTarget()
    {
        var port = ServerProcess.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        using var cts = new CancellationTokenSource();
        var serving = ServeMetricsAsync(listener, cts.Token);

        var config = $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: fixture
                static_configs:
                  - targets: ['127.0.0.1:{port}']
            """;
        await using var prometheus = await PrometheusServer.StartAsync(config);

        using var ready = await prometheus.Http.GetAsync("-/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var result = await prometheus.WaitForSeriesAsync("fixture_probe_value{job=\"fixture\"}", TimeSpan.FromSeconds(30));
        Assert.True(result.GetArrayLength() == 1, $"no series scraped; prometheus said:\n{prometheus.Log}");
        Assert.Equal("42", result[0].GetProperty("value")[1].GetString());

        await cts.CancelAsync();
        listener.Stop();
        await serving;
    }

    private static async Task ServeMetricsAsync(HttpListener listener, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes("# TYPE fixture_probe_value gauge\nfixture_probe_value 42\n");
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            context.Response.ContentType = "text/plain; version=0.0.4";
            await context.Response.OutputStream.WriteAsync(body, cancellationToken);
            context.Response.Close();
        }
    }
}
