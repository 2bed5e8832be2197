using System.Text;
using OptimizedCache.Testing;

namespace OptimizedCache.Monitoring.Tests.Support;

/// <summary>
/// One real Prometheus for a test class, scraping a pool of <see cref="SyntheticApiTarget"/>s every second, each
/// as its own job. A test leases a fresh target and points the guard at it with <c>Monitoring:Guard:Selector</c>,
/// so tests never share series, and Prometheus' start-up (about five seconds before its first scrape) is paid once
/// per class.
/// </summary>
public sealed class PrometheusFarm : IAsyncLifetime
{
    private const int Size = 10;
    private readonly List<SyntheticApiTarget> _targets = [];
    private int _next = -1;
    private PrometheusServer? _prometheus;

    /// <summary>The server.</summary>
    public PrometheusServer Prometheus => _prometheus ?? throw new InvalidOperationException("The farm has not started.");

    /// <summary>A target no other test has used, with the selector naming its job.</summary>
    public (SyntheticApiTarget Target, string Selector) Lease()
    {
        var i = Interlocked.Increment(ref _next);
        if (i >= _targets.Count)
        {
            throw new InvalidOperationException($"The farm has only {_targets.Count} targets; raise {nameof(Size)}.");
        }

        return (_targets[i], $"job=\"t{i}\"");
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var config = new StringBuilder("""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:

            """);
        for (var i = 0; i < Size; i++)
        {
            var target = SyntheticApiTarget.Start();
            _targets.Add(target);
            config.Append($"""
                  - job_name: t{i}
                    static_configs:
                      - targets: ['127.0.0.1:{target.Port}']

                """);
        }

        _prometheus = await PrometheusServer.StartAsync(config.ToString());
        await Task.WhenAll(_targets.Select(t => t.WaitForScrapesAsync(2)));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        foreach (var target in _targets)
        {
            await target.DisposeAsync();
        }
    }
}
