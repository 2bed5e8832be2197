// The OptimizedCache topology, top-down: parameters, infrastructure, services, monitoring. Redis, Prometheus and
// Grafana run as containers where a container runtime answers, else as executables from PATH (HostingMode.cs);
// the services see the same connection strings and endpoints either way.
using Microsoft.Extensions.Configuration;
using OptimizedCache.AppHost;

var settings = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
{
    Args = args,
    // scripts and tests that start several AppHosts at once turn the dashboard (and its fixed ports) off
    DisableDashboard = !settings.GetValue("AppHost:Dashboard", true),
});

HostingMode mode;
try
{
    mode = HostingMode.Resolve(builder.Configuration[HostingMode.SettingName]);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"AppHost: {ex.Message}");
    return 2;
}

if (!mode.Containers && HostingMode.MissingExecutables() is { Count: > 0 } missing)
{
    Console.Error.WriteLine($"AppHost: runs Redis and Prometheus as local executables ({mode.Reason}), but these are not on PATH: "
        + string.Join(", ", missing) + $". Install them, or run with a container runtime ({HostingMode.SettingName}=true).");
    return 1;
}

Console.WriteLine($"AppHost: Redis, Prometheus and Grafana run as {(mode.Containers ? "containers" : "local executables")} ({mode.Reason}).");

var initialPhase = builder.AddParameter("rollout-initial-phase", "0")
    .WithDescription("Rollout phase the Api starts in while Redis holds none yet (0 = cache off, 3 = all on).");

var adminApiKey = builder.AddParameter("admin-api-key", secret: true)
    .WithDescription("Key for the Api's /admin endpoints (header X-Api-Key); the dashboard commands send it.");

var replicas = builder.Configuration.GetValue("AppHost:ApiReplicas", 2);
if (replicas is < 1 or > 8)
{
    Console.Error.WriteLine($"AppHost: AppHost:ApiReplicas is {replicas}; allowed 1-8.");
    return 2;
}

var repository = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
var runDirectory = LocalServers.CreateRunDirectory(builder.Configuration["AppHost:RunDirectory"]);
var scrapeInterval = builder.Configuration.GetValue("AppHost:ScrapeInterval", TimeSpan.FromSeconds(5));
if (scrapeInterval < TimeSpan.FromSeconds(1) || scrapeInterval > TimeSpan.FromMinutes(1))
{
    Console.Error.WriteLine($"AppHost: AppHost:ScrapeInterval is {scrapeInterval}; allowed 00:00:01 to 00:01:00.");
    return 2;
}

IResourceBuilder<IResourceWithConnectionString> cache = mode.Containers
    ? builder.AddRedis("cache")
    : builder.AddRedisServer("cache", runDirectory);

// The store every Api replica calls: the Api project in the origin server role, one instance, so a write
// through one replica is what the next read through any other finds (as with the real store).
var store = builder.AddProject<Projects.Api>("store", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithEnvironment("Origin__Role", "Server")
    .WithEnvironment("Admin__ApiKey", adminApiKey);

// Named replicas (api-1, api-2, ...) rather than WithReplicas: each has an endpoint of its own, which is what
// Prometheus scrapes one by one and what the tests read through, replica by replica.
var apis = Enumerable.Range(1, replicas).Select(i => builder.AddProject<Projects.Api>($"api-{i}", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(cache).WaitFor(cache)
    .WithReference(store).WaitFor(store)
    .WithEnvironment("Origin__BaseUrl", store.GetEndpoint("http"))
    .WithEnvironment("Admin__ApiKey", adminApiKey)
    .WithEnvironment("Rollout__InitialPhase", initialPhase)
    .WithRolloutCommands(adminApiKey)).ToList();

var monitoring = builder.AddProject<Projects.Monitoring>("monitoring", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithEnvironment("Monitoring__Api", apis[0].GetEndpoint("http"))
    .WithEnvironment("Monitoring__ApiKey", adminApiKey);
foreach (var api in apis)
{
    monitoring.WaitFor(api);
}

if (mode.Containers)
{
    // Each service pushes its metrics to Prometheus' OTLP receiver: a Prometheus container cannot reach the
    // services' loopback ports to scrape them. Pushed series carry instance = the service's instance id.
    var prometheus = builder.AddContainer("prometheus", "prom/prometheus", "v3.5.0")
        .WithBindMount("../Monitoring/prometheus", "/etc/prometheus", isReadOnly: true)
        .WithBindMount("prometheus", "/etc/prometheus-aspire", isReadOnly: true)
        .WithArgs("--config.file=/etc/prometheus-aspire/prometheus.yml", "--web.enable-otlp-receiver")
        .WithHttpEndpoint(targetPort: 9090)
        .WithHttpHealthCheck("/-/ready");
    foreach (var service in apis.Append(store).Append(monitoring))
    {
        service.WithMetricsPushedTo(prometheus);
    }

    monitoring.WithEnvironment("Monitoring__Prometheus", prometheus.GetEndpoint("http")).WaitFor(prometheus);

    builder.AddContainer("grafana", "grafana/grafana", "12.2.1")
        .WithBindMount("../grafana/provisioning", "/etc/grafana/provisioning", isReadOnly: true)
        .WithBindMount("../grafana/dashboards", "/var/lib/grafana/dashboards", isReadOnly: true)
        .WithEnvironment("GRAFANA_DASHBOARDS", "/var/lib/grafana/dashboards")
        .WithEnvironment("PROMETHEUS_URL", prometheus.GetEndpoint("http"))
        .WaitFor(prometheus)
        .WithAnonymousReadOnlyAccess()
        .WithHttpEndpoint(targetPort: 3000)
        .WithHttpHealthCheck("/api/health");
}
else
{
    // Prometheus on the host scrapes every service's /metrics, replica by replica (AppHost/README.md).
    var targets = apis.Select(api => ("api", api.Resource.Name, api.GetEndpoint("http")))
        .Append(("store", store.Resource.Name, store.GetEndpoint("http")))
        .Append(("monitoring", monitoring.Resource.Name, monitoring.GetEndpoint("http")))
        .ToList();
    var prometheus = builder.AddPrometheusServer("prometheus", runDirectory, Path.Combine(repository, "Monitoring", "prometheus", "rules"), targets, scrapeInterval);
    monitoring.WithEnvironment("Monitoring__Prometheus", prometheus.GetEndpoint("http")).WaitFor(prometheus);
    builder.AddGrafanaServer("grafana", runDirectory, Path.Combine(repository, "grafana"), prometheus.GetEndpoint("http"));
}

// AppHost:Environment:<resource>:<NAME>=<value> adds a setting to one service (api: every replica), for drills and tests
foreach (var service in apis.Append(store).Append(monitoring))
{
    var section = builder.Configuration.GetSection($"AppHost:Environment:{(service.Resource.Name.StartsWith("api-", StringComparison.Ordinal) ? "api" : service.Resource.Name)}");
    foreach (var setting in section.GetChildren())
    {
        service.WithEnvironment(setting.Key, setting.Value ?? "");
    }
}

builder.WriteRunInfoWhenReady(runDirectory);

builder.Build().Run();
return 0;
