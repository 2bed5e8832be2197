using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using OptimizedCache.Api.Admin;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Rollout;
using OptimizedCache.Api.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the store API's services.</summary>
public static class ApplicationServiceExtensions
{
    /// <summary>
    /// The origin (the simulated store unless an <see cref="IStoreOrigin"/> is already registered), the rollout
    /// (state store, coordinator, feature definitions derived from the phase), feature management, admin
    /// settings, metrics and the recent-log ring. The cache itself (<c>HybridCache</c>) is registered by the caller.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<SimulatedOriginOptions>().BindConfiguration(SimulatedOriginOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ToBehavior().Validate() is null, "Origin settings are invalid (see OriginBehavior.Validate).")
            .ValidateOnStart();
        services.AddOptions<RolloutOptions>().BindConfiguration(RolloutOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => RolloutPlan.Presets.ContainsKey(o.Plan), "Rollout:Plan must be one of the presets: seed000, risk.")
            .ValidateOnStart();
        services.AddOptions<InvalidationOptions>().BindConfiguration(InvalidationOptions.SectionName)
            .Validate(o => o.Validate() is null, "Invalidation:Rules are invalid (see InvalidationOptions.Validate).")
            .ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);

        services.TryAddSingleton<SimulatedStoreOrigin>();
        services.TryAddSingleton<IStoreOrigin>(sp => sp.GetRequiredService<SimulatedStoreOrigin>());
        services.TryAddSingleton<IRolloutStateStore, InMemoryRolloutStateStore>();
        services.AddSingleton<ApiMetrics>();
        services.AddSingleton<RolloutCoordinator>();
        services.AddHostedService<RolloutSyncService>();
        services.AddHostedService<AdminKeyCheck>();
        services.AddSingleton<StoreCache>();
        services.AddScoped<StoreRequest>();
        services.AddSingleton<ApiKeyFilter>();

        var logs = new RecentLogs(TimeProvider.System);
        services.AddSingleton(logs);
        builder.Logging.AddProvider(logs);

        // The definitions come from the rollout phase, not configuration; registered before
        // AddFeatureManagement so its configuration-based provider is not used.
        services.AddSingleton<IFeatureDefinitionProvider, PhaseFeatureDefinitionProvider>();
        services.AddFeatureManagement();
        return builder;
    }

    /// <summary>Every <c>/api</c> response says <c>X-Cache</c>, even one refused before its handler ran (a body that does not parse).</summary>
    public static IApplicationBuilder UseCacheHeaderDefault(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                context.Response.Headers["X-Cache"] = "BYPASS";
            }

            return next(context);
        });
}
