using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OptimizedCache.Monitoring;
using OptimizedCache.Monitoring.Guard;
using OptimizedCache.Monitoring.Prometheus;
using OptimizedCache.Monitoring.Rollout;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Monitoring's services.</summary>
public static class ApplicationServiceExtensions
{
    /// <summary>
    /// Adds the options (validated at start), the Prometheus and Api clients, the baseline store, the guard, its
    /// worker, metrics and health check.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MonitoringOptions>().BindConfiguration(MonitoringOptions.SectionName).ValidateOnStart();
        services.AddOptions<GuardOptions>().BindConfiguration(GuardOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MonitoringOptions>, OptionsValidation>();
        services.AddSingleton<IValidateOptions<GuardOptions>, OptionsValidation>();
        services.AddProblemDetails();
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient<PrometheusClient>((sp, http) =>
        {
            var o = sp.GetRequiredService<IOptions<MonitoringOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(o.Prometheus!);
            http.Timeout = o.PrometheusTimeout;
        });
        services.AddHttpClient<RolloutApiClient>((sp, http) =>
        {
            var o = sp.GetRequiredService<IOptions<MonitoringOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(o.Api!);
            http.Timeout = o.ApiTimeout;
            http.DefaultRequestHeaders.Add("X-Api-Key", o.ApiKey);
        });

        services.AddSingleton(sp => new BaselineStore(sp.GetRequiredService<IOptions<GuardOptions>>().Value.BaselinePath));
        services.AddSingleton(sp => new GuardState(sp.GetRequiredService<IOptions<GuardOptions>>().Value.HistoryCapacity));
        services.AddSingleton<GuardMetrics>();
        services.AddSingleton<RolloutGuard>();
        services.AddHostedService<RolloutGuardWorker>();
        services.AddHealthChecks().AddCheck<GuardHealthCheck>("rollout-guard");
        return builder;
    }

    private static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
