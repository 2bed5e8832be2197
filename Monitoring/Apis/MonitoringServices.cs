using Microsoft.Extensions.Options;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Monitoring.Rollout;

namespace OptimizedCache.Monitoring.Apis;

/// <summary>What the panel's endpoints depend on, bundled for <c>[AsParameters]</c>.</summary>
public sealed class MonitoringServices(
    GuardState state,
    RolloutGuard guard,
    BaselineStore baselines,
    PrometheusClient prometheus,
    RolloutApiClient api,
    IOptionsMonitor<GuardOptions> guardOptions,
    IOptions<MonitoringOptions> options,
    TimeProvider timeProvider,
    ILogger<MonitoringServices> logger)
{
    /// <summary>The guard's state and history.</summary>
    public GuardState State { get; } = state;

    /// <summary>The guard.</summary>
    public RolloutGuard Guard { get; } = guard;

    /// <summary>The baseline.</summary>
    public BaselineStore Baselines { get; } = baselines;

    /// <summary>Prometheus.</summary>
    public PrometheusClient Prometheus { get; } = prometheus;

    /// <summary>The Api's admin endpoints.</summary>
    public RolloutApiClient Api { get; } = api;

    /// <summary>The guard's options.</summary>
    public IOptionsMonitor<GuardOptions> GuardOptions { get; } = guardOptions;

    /// <summary>Monitoring's options.</summary>
    public IOptions<MonitoringOptions> Options { get; } = options;

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; } = timeProvider;

    /// <summary>The logger.</summary>
    public ILogger<MonitoringServices> Logger { get; } = logger;
}
