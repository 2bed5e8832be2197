using System.Globalization;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizedCache.AppHost;

/// <summary>A <c>redis-server</c> run from PATH: loopback only, its password in a config file written at start.</summary>
internal sealed class RedisServerResource(string name, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => new(this, EndpointName);

    public ParameterResource Password { get; } = password;

    /// <summary>The StackExchange.Redis format every client here reads; 127.0.0.1 because the server binds no other address.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}

/// <summary>The executables mode's servers: Redis, Prometheus and (when installed) Grafana, in one run folder.</summary>
internal static class LocalServers
{
    /// <summary>
    /// A folder only this user can read, for the generated configuration, data and logs of one run: the one given, or
    /// a new one under the temporary folder.
    /// </summary>
    public static string CreateRunDirectory(string? given)
    {
        var run = given is { Length: > 0 }
            ? Path.GetFullPath(given)
            : Path.Combine(Path.GetTempPath(), "optimizedcache-apphost", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(run); // the user profile's temp folder is the user's own there
        }
        else
        {
            Directory.CreateDirectory(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        foreach (var stale in new[] { "ready", "urls" })
        {
            File.Delete(Path.Combine(run, stale)); // a previous run's would read as this one's
        }

        return run;
    }

    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name, string runDirectory)
    {
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var folder = Path.Combine(runDirectory, name);
        Directory.CreateDirectory(folder);
        var resource = new RedisServerResource(name, folder, password);
        var configFile = Path.Combine(folder, "redis.conf");

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(resource, async (_, cancellationToken) =>
        {
            // written before every start, so a restart through the dashboard finds it; readable by this user only
            var config = new StringBuilder()
                .AppendLine("bind 127.0.0.1")
                .AppendLine("protected-mode yes")
                .AppendLine(CultureInfo.InvariantCulture, $"port {resource.Endpoint.Port}")
                .AppendLine(CultureInfo.InvariantCulture, $"requirepass {await password.GetValueAsync(cancellationToken)}")
                .AppendLine("save \"\"")
                .AppendLine("appendonly no")
                .AppendLine(CultureInfo.InvariantCulture, $"dir {folder}")
                .ToString();
            await File.WriteAllTextAsync(configFile, "", cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            await File.WriteAllTextAsync(configFile, config, cancellationToken);
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(resource, async (_, cancellationToken) =>
            connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken));
        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(_ => connectionString ?? throw new InvalidOperationException("Redis has no connection string yet."), healthCheck);

        return builder.AddResource(resource)
            .WithEndpoint(name: RedisServerResource.EndpointName, isProxied: false)
            .WithArgs(configFile)
            .WithHealthCheck(healthCheck)
            .ExcludeFromManifest();
    }

    /// <summary>
    /// <c>prometheus</c> from PATH, scraping each named target's <c>/metrics</c> with the repository's rules. The
    /// configuration is written just before it starts, once every endpoint has its port.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddPrometheusServer(
        this IDistributedApplicationBuilder builder, string name, string runDirectory, string rulesDirectory,
        IReadOnlyList<(string Job, string Instance, EndpointReference Endpoint)> targets, TimeSpan scrapeInterval)
    {
        var folder = Path.Combine(runDirectory, name);
        Directory.CreateDirectory(folder);
        var configFile = Path.Combine(folder, "prometheus.yml");
        var prometheus = builder.AddExecutable(name, "prometheus", folder)
            .WithHttpEndpoint(name: "http", isProxied: false)
            .WithHttpHealthCheck("/-/ready")
            .ExcludeFromManifest();
        var endpoint = prometheus.GetEndpoint("http");
        prometheus.WithArgs(context =>
        {
            context.Args.Add($"--config.file={configFile}");
            context.Args.Add($"--storage.tsdb.path={Path.Combine(folder, "data")}");
            context.Args.Add(ReferenceExpression.Create($"--web.listen-address=127.0.0.1:{endpoint.Property(EndpointProperty.Port)}"));
            context.Args.Add("--web.enable-lifecycle");
        });

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(prometheus.Resource, async (_, cancellationToken) =>
            await File.WriteAllTextAsync(configFile, PrometheusConfig(rulesDirectory, targets, scrapeInterval), cancellationToken));
        return prometheus;
    }

    private static string PrometheusConfig(
        string rulesDirectory, IReadOnlyList<(string Job, string Instance, EndpointReference Endpoint)> targets, TimeSpan scrapeInterval)
    {
        var interval = $"{(int)scrapeInterval.TotalSeconds}s";
        var yaml = new StringBuilder()
            .AppendLine("# Written by the AppHost at start (executables mode); the rules are the repository's own.")
            .AppendLine("global:")
            .AppendLine(CultureInfo.InvariantCulture, $"  scrape_interval: {interval}")
            .AppendLine(CultureInfo.InvariantCulture, $"  evaluation_interval: {interval}")
            .AppendLine("  external_labels:")
            .AppendLine("    system: optimizedcache")
            .AppendLine("rule_files:")
            .AppendLine(CultureInfo.InvariantCulture, $"  - '{Path.Combine(rulesDirectory, "*.yml")}'")
            .AppendLine("scrape_configs:");
        foreach (var job in targets.GroupBy(t => t.Job))
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {job.Key}")
                .AppendLine("    metrics_path: /metrics")
                .AppendLine("    static_configs:");
            foreach (var target in job)
            {
                yaml.AppendLine(CultureInfo.InvariantCulture, $"      - targets: ['127.0.0.1:{target.Endpoint.Port}']")
                    .AppendLine(CultureInfo.InvariantCulture, $"        labels: {{ resource: '{target.Instance}' }}");
            }
        }

        return yaml.ToString();
    }

    /// <summary>
    /// Grafana from PATH (<c>grafana-server</c>) with the repository's provisioning; where it is not installed, a resource
    /// that says so on the dashboard instead of failing the run.
    /// </summary>
    public static void AddGrafanaServer(
        this IDistributedApplicationBuilder builder, string name, string runDirectory, string grafanaDirectory, EndpointReference prometheus)
    {
        if (HostingMode.FindOnPath("grafana-server") is not { } binary)
        {
            builder.AddResource(new GrafanaNotInstalledResource(name))
                .WithInitialState(new CustomResourceSnapshot
                {
                    ResourceType = "Executable",
                    State = new ResourceStateSnapshot("Not started: grafana-server not installed", KnownResourceStateStyles.Info),
                    Properties = [],
                })
                .ExcludeFromManifest();
            Console.WriteLine("AppHost: grafana-server is not installed; Grafana is not started (the dashboards need it or a container runtime).");
            return;
        }

        var folder = Path.Combine(runDirectory, name);
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        builder.AddExecutable(name, binary, folder, "--homepath", "/usr/share/grafana")
            .WithHttpEndpoint(name: "http", isProxied: false, env: "GF_SERVER_HTTP_PORT")
            .WithEnvironment("GF_SERVER_HTTP_ADDR", "127.0.0.1")
            .WithEnvironment("GF_PATHS_DATA", Path.Combine(folder, "data"))
            .WithEnvironment("GF_PATHS_PROVISIONING", Path.Combine(grafanaDirectory, "provisioning"))
            .WithEnvironment("GRAFANA_DASHBOARDS", Path.Combine(grafanaDirectory, "dashboards"))
            .WithEnvironment("PROMETHEUS_URL", prometheus)
            .WithAnonymousReadOnlyAccess()
            .WithHttpHealthCheck("/api/health")
            .ExcludeFromManifest();
    }

    private sealed class GrafanaNotInstalledResource(string name) : Resource(name);
}
