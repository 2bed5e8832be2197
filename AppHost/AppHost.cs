// The OptimizedCache topology, top-down: parameters, infrastructure, services, monitoring.
// Helpers longer than a few lines are in Extensions.cs.
using OptimizedCache.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var initialPhase = builder.AddParameter("rollout-initial-phase", "0")
    .WithDescription("Rollout phase the Api starts in while Redis holds none yet (0 = cache off, 3 = all on).");

var adminApiKey = builder.AddParameter("admin-api-key", secret: true)
    .WithDescription("Key for the Api's /admin endpoints (header X-Api-Key); the dashboard commands send it.");

var cache = builder.AddRedis("cache");

// Metrics reach Prometheus by OTLP push, not by scraping. Aspire runs each Api replica on a port of its
// own behind one proxied endpoint: a scrape through the proxy reads whichever replica answers, and a
// Prometheus container has no way to learn the replicas' host ports to scrape them one by one. Each
// replica instead pushes its own series to Prometheus' OTLP receiver, labelled instance =
// service.instance.id, which Aspire sets per replica. /metrics stays for the local launcher.
var prometheus = builder.AddContainer("prometheus", "prom/prometheus", "v3.5.0")
    .WithBindMount("../Monitoring/prometheus", "/etc/prometheus", isReadOnly: true)
    .WithBindMount("prometheus", "/etc/prometheus-aspire", isReadOnly: true)
    .WithArgs("--config.file=/etc/prometheus-aspire/prometheus.yml", "--web.enable-otlp-receiver")
    .WithHttpEndpoint(targetPort: 9090)
    .WithHttpHealthCheck("/-/ready");

// The store every Api replica calls: the Api project in the origin server role, one instance, so a write
// through one replica is what the next read through any other finds (as with the real store).
var store = builder.AddProject<Projects.Api>("store", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithEnvironment("Origin__Role", "Server")
    .WithEnvironment("Admin__ApiKey", adminApiKey);

var api = builder.AddProject<Projects.Api>("api", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReplicas(2)
    .WithReference(cache).WaitFor(cache)
    .WithReference(store).WaitFor(store)
    .WithEnvironment("Origin__BaseUrl", store.GetEndpoint("http"))
    .WithEnvironment("Admin__ApiKey", adminApiKey)
    .WithEnvironment("Rollout__InitialPhase", initialPhase)
    .WithMetricsPushedTo(prometheus)
    .WithRolloutCommands(adminApiKey);

builder.AddProject<Projects.Monitoring>("monitoring", options => options.ExcludeLaunchProfile = true)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(api).WaitFor(api)
    .WithEnvironment("Monitoring__Api", api.GetEndpoint("http"))
    .WithEnvironment("Monitoring__Prometheus", prometheus.GetEndpoint("http"))
    .WaitFor(prometheus)
    .WithEnvironment("Monitoring__ApiKey", adminApiKey)
    .WithMetricsPushedTo(prometheus);

builder.AddContainer("grafana", "grafana/grafana", "12.2.1")
    .WithBindMount("../grafana/provisioning", "/etc/grafana/provisioning", isReadOnly: true)
    .WithBindMount("../grafana/dashboards", "/var/lib/grafana/dashboards", isReadOnly: true)
    .WithEnvironment("PROMETHEUS_URL", prometheus.GetEndpoint("http"))
    .WaitFor(prometheus)
    .WithAnonymousReadOnlyAccess()
    .WithHttpEndpoint(targetPort: 3000)
    .WithHttpHealthCheck("/api/health");

builder.Build().Run();
