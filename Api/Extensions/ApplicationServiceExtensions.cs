using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using OptimizedCache.Api.Admin;
using OptimizedCache.Api.Apis;
using OptimizedCache.Api.Caching;
using OptimizedCache.Api.Origin;
using OptimizedCache.Api.Rollout;
using OptimizedCache.Api.Telemetry;
using OptimizedCache.Cache.Core;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the store API's services.</summary>
public static class ApplicationServiceExtensions
{
    /// <summary>
    /// The origin (the shared origin server at <c>Origin:BaseUrl</c> when set, else the simulated store in
    /// process, unless an <see cref="IStoreOrigin"/> is already registered), the rollout
    /// (state store, coordinator, feature definitions derived from the phase), feature management, admin
    /// settings, metrics, the recent-log ring and the cache (<c>OptimizedHybridCache</c> as <c>HybridCache</c>).
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.TryAddSingleton(TimeProvider.System);

        builder.AddOriginOptions();
        services.AddOptions<RolloutOptions>().BindConfiguration(RolloutOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => RolloutPlan.Presets.ContainsKey(o.Plan), "Rollout:Plan must be one of the presets: seed000, risk.")
            .ValidateOnStart();
        services.AddOptions<InvalidationOptions>().BindConfiguration(InvalidationOptions.SectionName)
            .Validate(o => o.Validate() is null, "Invalidation:Rules are invalid (see InvalidationOptions.Validate).")
            .ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);

        // One store for every replica when Origin:BaseUrl names the origin server; otherwise each process
        // embeds its own, which is right for one replica and for tests only.
        if (builder.Configuration.GetSection(OriginConnectionOptions.SectionName).Get<OriginConnectionOptions>()?.BaseUrl is { } originUrl)
        {
            services.AddHttpClient<HttpStoreOrigin>((sp, http) =>
            {
                var o = sp.GetRequiredService<IOptions<OriginConnectionOptions>>().Value;
                http.BaseAddress = originUrl.AbsoluteUri.EndsWith('/') ? originUrl : new Uri(originUrl.AbsoluteUri + "/");
                http.Timeout = o.Timeout;
                http.MaxResponseContentBufferSize = o.MaxResponseBytes;
            });
            services.TryAddSingleton<IStoreOrigin>(sp => sp.GetRequiredService<HttpStoreOrigin>());
        }

        services.TryAddSingleton<SimulatedStoreOrigin>();
        services.TryAddSingleton<IStoreOrigin>(sp => sp.GetRequiredService<SimulatedStoreOrigin>());
        // Redis through Aspire's client: one multiplexer for the cache and the rollout state, configured from
        // ConnectionStrings:cache (and Aspire:StackExchange:Redis). It connects in the background and a call made
        // while it is disconnected fails at once, so a replica starts and serves from L1 and the origin while Redis
        // is down. Its health check is off: a replica without Redis is degraded, not unhealthy, which the cache's own
        // check reports. Its tracing is off: ServiceDefaults builds its own tracer provider, which that tracing cannot join.
        var cacheRedis = builder.Configuration.GetConnectionString("cache");
        if (!string.IsNullOrEmpty(cacheRedis))
        {
            // the multiplexer is made on first use, in the background: a malformed string must stop the start instead
            services.AddOptions<RedisConnectionCheck>()
                .Validate(_ => RedisConnectionString.Parse(cacheRedis) is not null, "ConnectionStrings:cache is invalid.")
                .ValidateOnStart();
            builder.AddRedisClient(
                "cache",
                settings =>
                {
                    settings.DisableHealthChecks = true;
                    settings.DisableTracing = true;
                    settings.DisableAutoActivation = true;
                },
                options =>
                {
                    options.AbortOnConnectFail = false;
                    options.BacklogPolicy = StackExchange.Redis.BacklogPolicy.FailFast;
                });
        }

        // Rollout state in Redis when there is one (shared by replicas, kept across restarts), else in memory.
        // Rollout:RedisConnectionString may point the rollout at another Redis than the cache's.
        if (builder.Configuration["Rollout:RedisConnectionString"] is { Length: > 0 } rolloutRedis)
        {
            services.TryAddSingleton<IRolloutStateStore>(sp => new RedisRolloutStateStore(
                rolloutRedis, sp.GetRequiredService<IOptions<RolloutOptions>>(), sp.GetRequiredService<ILogger<RedisRolloutStateStore>>()));
        }
        else if (!string.IsNullOrEmpty(cacheRedis))
        {
            services.TryAddSingleton<IRolloutStateStore>(sp => new RedisRolloutStateStore(
                sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>, sp.GetRequiredService<IOptions<RolloutOptions>>(), sp.GetRequiredService<ILogger<RedisRolloutStateStore>>()));
        }

        services.TryAddSingleton<IRolloutStateStore, InMemoryRolloutStateStore>();

        // The cache: L1 in process, L2 on that multiplexer when ConnectionStrings:cache is set.
        var cache = services.AddOptimizedHybridCache();
        if (!string.IsNullOrEmpty(cacheRedis))
        {
            cache.UseConnectionMultiplexer();
        }

        // Cache:* tunes the cache (L1 budget, expirations, resilience) without code, e.g. Cache__L1MaximumBytes for drills.
        services.AddOptions<OptimizedHybridCacheOptions>().BindConfiguration("Cache");
        // The Api's dependency rules (Invalidation:Rules over the defaults) are the cache's: writes say what changed.
        services.AddOptions<OptimizedHybridCacheOptions>().Configure<IOptions<InvalidationOptions>>((o, invalidation) =>
        {
            foreach (var (entity, templates) in invalidation.Value.Effective)
            {
                o.DependencyRules[entity] = templates;
            }
        });
        services.TryAddSingleton<ICacheStatisticsSource, OptimizedCacheStatistics>();
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

    /// <summary>
    /// The origin server role (<c>Origin:Role=Server</c>): one simulated store served under <c>/origin</c> to
    /// every Api replica, with the admin key guarding changes to its behaviour. No cache, rollout or flags.
    /// </summary>
    public static IHostApplicationBuilder AddOriginServerServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.TryAddSingleton(TimeProvider.System);
        builder.AddOriginOptions();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.TryAddSingleton<SimulatedStoreOrigin>();
        services.AddSingleton<ApiKeyFilter>();
        services.AddHostedService<AdminKeyCheck>();
        return builder;
    }

    /// <summary>Whether configuration puts this process in the origin server role.</summary>
    public static bool IsOriginServer(this IConfiguration configuration) =>
        configuration.GetSection(OriginConnectionOptions.SectionName).Get<OriginConnectionOptions>()?.Role == OriginRole.Server;

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

    private static void AddOriginOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SimulatedOriginOptions>().BindConfiguration(SimulatedOriginOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ToBehavior().Validate() is null, "Origin settings are invalid (see OriginBehavior.Validate).")
            .ValidateOnStart();
        builder.Services.AddOptions<OriginConnectionOptions>().BindConfiguration(OriginConnectionOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Validate() is null, "Origin:Role, Origin:BaseUrl or Origin:Timeout is invalid (see OriginConnectionOptions.Validate).")
            .ValidateOnStart();
    }
}

/// <summary>The options type whose start-up validation checks <c>ConnectionStrings:cache</c>.</summary>
internal sealed class RedisConnectionCheck;
